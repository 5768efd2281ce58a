"""ONNX copies of the converted model: a float32 export and dynamic int8 quantisations."""

from __future__ import annotations

import shutil
from pathlib import Path

ONNX_FILE = "model.onnx"
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json")
OPSET = 17


def copy_tokenizer(model_dir: Path, dest: Path) -> None:
    """Give an ONNX folder its own tokenizer so it loads without the torch folder."""
    for name in TOKENIZER_FILES:
        shutil.copy2(model_dir / name, dest / name)


def _encoder(model):
    """Wrap the encoder so the export sees two positional inputs and one output."""
    import torch

    class Encoder(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.bert = model

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            return self.bert(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state

    return Encoder().eval()


def export_fused(module, config, dest: Path, output: str) -> None:
    """Export `module` ((input_ids, attention_mask) in, one per-token tensor named `output`
    out) to dest/model.onnx, fused for onnxruntime."""
    import torch
    from onnxruntime.transformers.optimizer import optimize_model

    raw_path = dest / "raw.onnx"
    dummy = torch.ones((2, 16), dtype=torch.long)
    with torch.inference_mode():
        torch.onnx.export(
            module,
            (dummy, dummy),
            str(raw_path),
            input_names=["input_ids", "attention_mask"],
            output_names=[output],
            dynamic_axes={
                "input_ids": {0: "batch", 1: "tokens"},
                "attention_mask": {0: "batch", 1: "tokens"},
                output: {0: "batch", 1: "tokens"},
            },
            opset_version=OPSET,
            dynamo=False,
        )
    optimized = optimize_model(
        str(raw_path),
        model_type="bert",
        num_heads=config.num_attention_heads,
        hidden_size=config.hidden_size,
    )
    optimized.save_model_to_file(str(dest / ONNX_FILE))
    raw_path.unlink()


def export_fp32(model_dir: Path, dest: Path) -> None:
    """Export the converted encoder (token embeddings out) and fuse it for onnxruntime."""
    from transformers import BertModel

    # Eager attention exports as plain MatMul/Softmax, which onnxruntime then fuses.
    model = BertModel.from_pretrained(
        str(model_dir), add_pooling_layer=False, attn_implementation="eager"
    ).eval()
    export_fused(_encoder(model), model.config, dest, "token_embeddings")
    copy_tokenizer(model_dir, dest)


def quantize_int8(fp32_dir: Path, dest: Path, fp32_layers: tuple[int, ...] = ()) -> None:
    """Dynamic int8 quantisation, per output channel, of the fused float32 graph.

    The dense projections (attention output, FFN in and out: the MatMul nodes) of the
    transformer layers in `fp32_layers` stay float32; fused Attention nodes are int8.
    """
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    graph = onnx.load(str(fp32_dir / ONNX_FILE), load_external_data=False).graph
    kept = [
        node.name
        for node in graph.node
        if node.op_type == "MatMul" and any(f"/layer.{i}/" in node.name for i in fp32_layers)
    ]
    quantize_dynamic(
        str(fp32_dir / ONNX_FILE),
        str(dest / ONNX_FILE),
        per_channel=True,
        weight_type=QuantType.QInt8,
        nodes_to_exclude=kept,
        # The fused graph has ops without type info; treat unknown tensors as float.
        extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
    )
    copy_tokenizer(fp32_dir, dest)

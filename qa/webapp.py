"""The Gradio chat page and its API endpoints over one Engine (no retrieval logic here)."""

import functools
import html
from collections.abc import Callable
from pathlib import Path
from typing import ParamSpec, TypeVar

import gradio as gr

from qa.engine import MODES, Engine
from qa.errors import QAError
from qa.render import answer_html, answer_json, error_html, hit_json
from qa.uploads import MAX_UPLOAD_BYTES, MAX_UPLOAD_FILES, UPLOAD_SUFFIXES, read_uploads

EXAMPLES = [
    "Ai chủ trì hội nghị ở Chiêm Hóa?",
    "Who chaired the Chiêm Hóa meeting?",
    "Ai chu tri hoi nghi o Chiem Hoa?",
    "Bắc Giang có bao nhiêu mô hình Dân vận khéo?",
    "When did the Bắc Kạn city meeting take place?",
]
MODE_LABELS = {"hybrid": "Kết hợp", "dense": "Ngữ nghĩa", "lexical": "Từ khóa"}
DEFAULT_K = 5
MAX_K = 10
# Questions are short CPU work on a thread-safe engine: a few at once keep the cores busy.
ASK_CONCURRENCY = 4
QUEUE_MAX_SIZE = 64
CSS = """
.reply .short-answer { font-size: 1.1em; margin: 0 0 .4em; }
.reply .source { font-size: .85em; opacity: .8; margin-bottom: .3em; }
.reply blockquote { margin: .3em 0; padding: .4em .7em; border-left: 3px solid #999; }
.reply span.sentence { background: #e6f0ff; text-decoration: underline dotted #3b6fd6; }
.reply mark.answer { background: #ffd54f; color: #000; font-weight: 700; padding: 0 .15em; }
.reply mark.term { background: #fff3c4; color: inherit; }
.reply details.passages { margin-top: .5em; }
.reply .rank { font-size: .8em; font-weight: 600; margin-top: .6em; }
.reply.error { color: #b00020; }
"""


P = ParamSpec("P")
R = TypeVar("R")


def _user_errors(handler: Callable[P, R]) -> Callable[P, R]:
    """QAError -> gr.Error, so its message (never a traceback) reaches the page or client."""

    @functools.wraps(handler)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return handler(*args, **kwargs)
        except QAError as exc:
            raise gr.Error(str(exc)) from exc

    return wrapper


def status_markdown(engine: Engine) -> str:
    """Index counts and model, in Vietnamese."""
    info = engine.info()
    return (
        f"**Chỉ mục:** {info.documents} tài liệu · {info.passages} đoạn · "
        f"mô hình `{html.escape(info.embedder)}` ({info.dim} chiều)"
    )


def _upload_log(added: list[str], replaced: list[str], notes: list[str], refused: list[str]) -> str:
    lines = [f"✅ Đã thêm: {html.escape(name)}" for name in added]
    lines += [f"🔄 Đã cập nhật: {html.escape(name)}" for name in replaced]
    lines += [f"ℹ️ Bỏ qua: {html.escape(note)}" for note in notes]
    lines += [f"❌ Bị từ chối: {html.escape(message)}" for message in refused]
    return "\n\n".join(lines) or "Không có tệp nào."


def build_demo(engine: Engine) -> gr.Blocks:
    """The chat page over `engine`, with the named API endpoints /ask and /search."""

    @_user_errors
    def ask(question: str, k: int = DEFAULT_K, mode: str = "hybrid") -> dict:
        """Answer a question from the reports: answer text, spans, passage and source."""
        return answer_json(engine.ask(question, k=int(k), mode=mode))

    @_user_errors
    def search(query: str, k: int = DEFAULT_K, mode: str = "hybrid") -> list[dict]:
        """The k best passages for a query, best first."""
        return [hit_json(hit) for hit in engine.search(query, k=int(k), mode=mode)]

    def respond(question: str, history: list[dict], k: float, mode: str) -> tuple[list[dict], str]:
        """Append the question and its rendered answer (or the refusal) to the chat."""
        try:
            reply = answer_html(engine.ask(question, k=int(k), mode=mode))
        except QAError as exc:
            reply = error_html(str(exc))
        turn = [
            {"role": "user", "content": html.escape(question)},
            {"role": "assistant", "content": reply},
        ]
        return [*history, *turn], ""

    @_user_errors
    def add_files(
        paths: list[str] | None,
        progress: gr.Progress = gr.Progress(track_tqdm=True),  # noqa: B008 (Gradio's idiom)
    ) -> tuple[str, str, None]:
        """Read uploaded files, index the readable ones, and report on each file."""
        files = [Path(path) for path in paths or []]
        documents, refused = read_uploads(
            files, lambda i, name: progress((i, len(files)), desc=f"Đang đọc {name}")
        )
        progress(0.9, desc="Đang lập chỉ mục…")
        report = engine.add_documents(documents, progress=True)
        notes = [*report.unchanged, *report.duplicates]
        log = _upload_log(list(report.added), list(report.replaced), notes, refused)
        return log, status_markdown(engine), None

    with gr.Blocks(title="Hỏi đáp báo cáo dân vận", analytics_enabled=False) as demo:
        gr.Markdown(
            "## Hỏi đáp báo cáo dân vận\n"
            "Đặt câu hỏi bằng tiếng Việt (có hoặc không dấu) hoặc tiếng Anh; câu trả lời "
            "được tô sáng trong đoạn văn gốc, kèm nguồn."
        )
        with gr.Row():
            with gr.Column(scale=3):
                chat = gr.Chatbot(
                    label="Hội thoại",
                    elem_id="chat",
                    height=560,
                    latex_delimiters=[],
                    feedback_options=None,
                    placeholder="Hãy đặt câu hỏi về các báo cáo trong chỉ mục.",
                )
                question = gr.Textbox(
                    label="Câu hỏi",
                    elem_id="question",
                    placeholder="Nhập câu hỏi rồi nhấn Enter…",
                    submit_btn="Hỏi",
                )
                gr.Examples(EXAMPLES, inputs=question, label="Câu hỏi mẫu")
            with gr.Column(scale=1):
                k = gr.Slider(1, MAX_K, value=DEFAULT_K, step=1, label="Số đoạn văn")
                modes = [(MODE_LABELS[name], name) for name in MODES]
                mode = gr.Radio(modes, value="hybrid", label="Cách tìm kiếm")
                status = gr.Markdown(status_markdown(engine), elem_id="index-status")
                files = gr.File(
                    label=(
                        f"Thêm tài liệu ({', '.join(UPLOAD_SUFFIXES)}; tối đa "
                        f"{MAX_UPLOAD_BYTES // 2**20} MB mỗi tệp, {MAX_UPLOAD_FILES} tệp mỗi lần)"
                    ),
                    file_count="multiple",
                    elem_id="upload",
                )
                upload_log = gr.Markdown(elem_id="upload-log")
        question.submit(
            respond, [question, chat, k, mode], [chat, question], api_visibility="private"
        )
        files.upload(
            add_files,
            files,
            [upload_log, status, files],
            concurrency_limit=1,
            api_visibility="private",
        )
        gr.api(ask, api_name="ask", concurrency_limit=ASK_CONCURRENCY)
        gr.api(search, api_name="search", concurrency_limit=ASK_CONCURRENCY)
    demo.queue(max_size=QUEUE_MAX_SIZE, default_concurrency_limit=ASK_CONCURRENCY)
    return demo


def serve(engine: Engine) -> None:
    """Start the page; host and port follow GRADIO_SERVER_NAME / GRADIO_SERVER_PORT."""
    build_demo(engine).launch(css=CSS, show_error=False)

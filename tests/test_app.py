"""The running app's named API endpoints, called with gradio_client as a client would."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from app_server import SAMPLES
from gradio_client import Client
from gradio_client.exceptions import AppError

CHAIR = "Hà Đức Tập"
CHIEM_HOA_DOC = "chiem-hoa-2022-07.txt"
CHIEM_HOA_QUESTIONS = [
    "Ai chủ trì hội nghị ở Chiêm Hóa?",
    "Who chaired the Chiêm Hóa meeting?",
    "Ai chu tri hoi nghi o Chiem Hoa?",
]


@pytest.fixture(scope="module")
def client(app_url: str) -> Client:
    return Client(app_url, verbose=False)


def test_only_the_named_endpoints_are_public(client: Client) -> None:
    endpoints = client.view_api(return_format="dict", print_info=False)["named_endpoints"]
    assert set(endpoints) == {"/ask", "/search"}


@pytest.mark.parametrize("question", CHIEM_HOA_QUESTIONS)
def test_ask_answers_with_spans_and_source(client: Client, question: str) -> None:
    result = client.predict(question, api_name="/ask")
    assert result["found"], result["message"]
    assert CHAIR in result["answer"]
    spans, passage = result["spans"], result["passage"]
    answer, sentence = spans["answer"], spans["sentence"]
    assert passage[answer["start"] : answer["end"]] == result["answer"]
    assert sentence["start"] <= answer["start"] < answer["end"] <= sentence["end"]
    source = result["source"]
    assert source["doc_id"] == CHIEM_HOA_DOC
    document = (SAMPLES / CHIEM_HOA_DOC).read_text(encoding="utf-8")
    assert document[spans["document"]["start"] : spans["document"]["end"]] == result["answer"]
    assert document[source["start"] : source["end"]] == passage


def test_concurrent_questions_each_get_their_own_answer(client: Client) -> None:
    questions = [*CHIEM_HOA_QUESTIONS, "Bắc Giang có bao nhiêu mô hình Dân vận khéo?"] * 2
    jobs = [client.submit(question, api_name="/ask") for question in questions]
    assert [job.result(timeout=120)["question"] for job in jobs] == questions


LOAD_REQUESTS = 50
LOAD_QUESTIONS = [
    *CHIEM_HOA_QUESTIONS,
    "Bắc Giang có bao nhiêu mô hình Dân vận khéo?",
    "Khối dân vận quận họp ở đâu?",
    "How many models did Bắc Giang build?",
    "Ai là chủ tịch nước Pháp năm 1990?",
]


def test_fifty_concurrent_requests_all_succeed(app_url: str) -> None:
    """A bounded local load: 50 asks in flight at once, every one answered, none failed.

    Each request has its own client, as 50 users would: one gradio_client Client shares a
    single event stream among its requests, and once in a CI run (gradio_client 2.7.2) a
    request got the end marker of a stream that closed while it was being submitted."""
    questions = [LOAD_QUESTIONS[i % len(LOAD_QUESTIONS)] for i in range(LOAD_REQUESTS)]

    def timed_ask(question: str) -> tuple[dict, float]:
        user = Client(app_url, verbose=False)
        started = time.perf_counter()
        reply = user.predict(question, api_name="/ask")
        return reply, time.perf_counter() - started

    with ThreadPoolExecutor(max_workers=LOAD_REQUESTS) as pool:
        results = list(pool.map(timed_ask, questions))
    replies = [reply for reply, _ in results]
    assert [reply["question"] for reply in replies] == questions
    for question, reply in zip(questions, replies, strict=True):
        assert reply["found"] == (question != LOAD_QUESTIONS[-1]), question
        assert question not in CHIEM_HOA_QUESTIONS or CHAIR in reply["answer"]
    latencies = sorted(seconds for _, seconds in results)
    p50, p95 = latencies[LOAD_REQUESTS // 2], latencies[int(0.95 * (LOAD_REQUESTS - 1))]
    print(f"\n{LOAD_REQUESTS} concurrent asks: p50 {p50:.2f} s, p95 {p95:.2f} s, 0 errors")


def test_ask_without_an_answer_says_so_and_keeps_passages(client: Client) -> None:
    result = client.predict("Ai là chủ tịch nước Pháp năm 1990?", k=3, api_name="/ask")
    assert not result["found"] and result["message"]
    assert 1 <= len(result["passages"]) <= 3


def test_search_returns_ranked_hits(client: Client) -> None:
    hits = client.predict("Chiêm Hóa", k=2, mode="lexical", api_name="/search")
    assert [hit["rank"] for hit in hits] == [1, 2]
    assert hits[0]["doc_id"] == CHIEM_HOA_DOC and "Chiêm Hóa" in hits[0]["text"]


@pytest.mark.parametrize(
    ("endpoint", "kwargs", "message"),
    [
        ("/ask", {"question": "   "}, "empty"),
        ("/search", {"query": "hội nghị", "mode": "fuzzy"}, "mode must be one of"),
    ],
)
def test_errors_reach_the_client_as_messages(
    client: Client, endpoint: str, kwargs: dict, message: str
) -> None:
    with pytest.raises(AppError, match=message):
        client.predict(**kwargs, api_name=endpoint)

"""The Streamlit app through AppTest: a whole round, follow-up, summary, review, export, settings, several sessions."""

from __future__ import annotations

import time
from types import SimpleNamespace

import pandas as pd
import pyarrow as pa
import pytest
from streamlit.testing.v1 import AppTest

from app_pages.common import get_runtime
from interviewer.knowledge import LEVELS
from interviewer.models import LOCAL_OWNER
from interviewer.settings import PROJECT_ROOT, Settings, load_settings, save_settings_file
from interviewer.store import open_store

from .fake_llm import SilentEndpoint
from .test_figures import KV_DOCUMENT

APP = str(PROJECT_ROOT / "app.py")
FOCUS = "batching"  # the bank has at least two questions on it, dynamic batching first
PARTIAL = "Dynamic batching groups requests that arrive close together into one batch so the GPU is used better."
FULL = (
    "Dynamic batching groups concurrent requests into one batch to raise accelerator utilisation and throughput. "
    "A maximum batch size and a maximum queue delay bound how long any request waits, so it trades a little "
    "per-request latency for much higher throughput. Inputs of different lengths need padding or bucketing."
)


def new_session() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=90)
    at.run()
    assert not at.exception, at.exception
    return at


def start_round(at: AppTest, count: int = 2, mode: str = "practice", focus: str = FOCUS) -> None:
    """Start a focus round; when the bank has fewer questions on the focus than asked, take those it has."""
    at.text_input(key="start_focus").input(focus)
    at.slider(key="start_count").set_value(count)
    at.radio(key="start_mode").set_value(mode)
    at.button(key="start_submit").click().run()
    if any(button.key == "focus_accept" for button in at.button):
        at.button(key="focus_accept").click().run()
    assert not at.exception, at.exception


def answer(at: AppTest, text: str) -> None:
    at.chat_input[0].set_value(text).run()
    assert not at.exception, at.exception


def texts(at: AppTest) -> str:
    """Everything drawn as Markdown, text or caption, for assertions about what a person reads."""
    return "\n".join(element.value for kind in ("markdown", "text", "caption") for element in at.get(kind))


def test_no_page_draws_its_own_source_text(app_env: Settings) -> None:
    at = new_session()  # Streamlit draws a page's bare string expressions ("magic"): none may reach the person
    assert "waiting for the person's choice" not in texts(at)
    at.switch_page("app_pages/knowledge.py").run()
    assert not at.exception and "not about the query" not in texts(at)


def test_a_practice_round_from_start_to_review(app_env: Settings) -> None:
    at = new_session()
    start_round(at, count=2)
    first_question = at.chat_message[0].markdown[1].value
    assert "batch" in first_question.lower()

    answer(at, PARTIAL)
    page = texts(at)
    assert at.metric[0].label == "Score" and at.metric[0].value.endswith("/ 5")
    assert "Missed" in page and "Graded by offline" in page
    assert PARTIAL in [element.value for element in at.text]  # the answer is shown as plain text
    assert "Follow-up" in page  # a partial answer gets one follow-up question

    answer(at, "Inputs of different lengths are padded to the longest one or bucketed by length.")
    at.button(key="end_round").click().run()
    page = texts(at)
    assert [element.value for element in at.subheader] == ["Round summary", "Transcript"]
    kinds = [element.type for element in at.main.children.values()]
    assert kinds.index("subheader") < kinds.index("chat_message")  # the summary is on top, the transcript below
    assert "Key points to work on" in page or "Worth retrying" in page

    at.switch_page("app_pages/review.py").run()
    assert not at.exception, at.exception
    assert PARTIAL in [element.value for element in at.text]
    assert len(at.get("download_button")) == 2  # Markdown and JSON export

    record = open_store(app_env).list_rounds(owner=LOCAL_OWNER)[0]
    assert [turn.kind for turn in record.turns][:2] == ["question", "follow_up"]
    assert record.ended_at is not None


def chart_data(at: AppTest) -> list[pd.DataFrame]:
    """The rows behind each altair chart on the page, in page order."""
    return [pa.ipc.open_stream(chart.proto.datasets[0].data.data).read_pandas() for chart in at.get("vega_lite_chart")]


def test_a_focus_the_bank_cannot_fill_is_said_before_the_round_and_the_closest_topic_offered(
    app_env: Settings,
) -> None:
    at = new_session()
    at.text_input(key="start_focus").input("speculative decoding")
    at.slider(key="start_count").set_value(15)
    at.button(key="start_submit").click().run()
    assert not at.exception, at.exception
    (warning,) = at.warning
    assert "about 'speculative decoding' (you asked for 15)" in warning.value
    assert "The closest topic is " in warning.value
    assert not at.chat_message  # no round has started
    topic = warning.value.split("The closest topic is ")[1].rstrip(".")
    at.button(key="focus_topic").click().run()
    assert not at.exception, at.exception
    record = open_store(app_env).list_rounds(owner=LOCAL_OWNER)[0]
    assert record.topics == [topic] and record.focus is None and len(record.question_ids) > 1


def test_review_charts_rounds_in_order_and_filters_by_topic(app_env: Settings) -> None:
    for focus, text in (
        (FOCUS, FULL),
        ("int8 post-training quantization", "Quantization stores weights in int8 after calibration on sample data."),
    ):
        at = new_session()
        start_round(at, count=1, focus=focus)
        answer(at, text)
        if at.button(key="end_round") is not None and at.chat_input:
            at.button(key="end_round").click().run()
    rounds = open_store(app_env).list_rounds(owner=LOCAL_OWNER)  # newest first
    at.switch_page("app_pages/review.py").run()
    assert not at.exception, at.exception

    over_time, per_topic = chart_data(at)
    assert list(over_time["round"]) == [rounds[1].id, rounds[0].id]  # oldest first, numbered 1 and 2
    assert list(over_time["number"]) == [1, 2]
    topics = {turn.topic for record in rounds for turn in record.graded_turns}
    assert set(per_topic["topic"]) == topics and len(topics) == 2
    (per_level,) = at.dataframe  # scores by level: each answer counted once, under its question's level
    assert per_level.value["answers"].sum() == sum(len(record.graded_turns) for record in rounds)
    assert set(per_level.value["level"]) <= {*LEVELS, "no level"}

    quantization_topic = rounds[0].turns[0].topic
    at.selectbox[0].select(quantization_topic).run()
    over_time, per_topic = chart_data(at)
    assert list(over_time["round"]) == [rounds[0].id]
    assert list(per_topic["topic"]) == [quantization_topic]


def test_mock_mode_hides_grades_and_help_until_the_end(app_env: Settings) -> None:
    at = new_session()
    start_round(at, count=2, mode="mock")
    assert not [b for b in at.button if b.label in ("Hint", "Show the model answer")]
    answer(at, FULL)
    assert at.chat_input and not at.metric  # the round goes on, with no grade card
    while not at.subheader:
        if at.chat_input:
            answer(at, "Padding and bucketing handle variable lengths.")
        else:
            break
    assert "Round summary" in [element.value for element in at.subheader]
    assert at.metric  # grades are shown at the end


def test_empty_answer_gets_a_message_and_nothing_is_saved(app_env: Settings) -> None:
    at = new_session()
    start_round(at, count=1)
    answer(at, "   ")
    assert "That answer is empty" in at.warning[0].value
    assert open_store(app_env).list_rounds(owner=LOCAL_OWNER)[0].turns == []


def test_skip_moves_on_and_is_recorded(app_env: Settings) -> None:
    at = new_session()
    start_round(at, count=2)
    at.button(key="skip_question").click().run()
    record = open_store(app_env).list_rounds(owner=LOCAL_OWNER)[0]
    assert record.turns[0].skipped
    assert "question 2 of 2" in texts(at)


def test_two_sessions_at_once_never_mix(app_env: Settings) -> None:
    alice, bob = new_session(), new_session()
    start_round(alice, count=1)
    start_round(bob, count=1)
    answer(alice, "Alice says batching raises throughput by grouping requests.")
    answer(bob, "Bob says the queue delay bounds latency.")
    assert "Alice" in texts(alice) + "".join(t.value for t in alice.text)
    assert not any("Bob" in t.value for t in alice.text)
    assert not any("Alice" in t.value for t in bob.text)
    rounds = open_store(app_env).list_rounds(owner=LOCAL_OWNER)
    answers = sorted(turn.answer or "" for record in rounds for turn in record.turns if turn.kind == "question")
    assert [a.split()[0] for a in answers] == ["Alice", "Bob"]
    assert len({record.id for record in rounds}) == 2


def test_an_unfinished_round_can_be_resumed_in_a_new_session(app_env: Settings) -> None:
    first = new_session()
    start_round(first, count=2)
    answer(first, FULL)
    second = new_session()  # a new tab, or the same person after a restart
    resume = [b for b in second.button if b.label.startswith("Resume round")]
    assert resume
    resume[0].click().run()
    assert FULL in [element.value for element in second.text]


def same_round_in_two_tabs(count: int = 2) -> tuple[AppTest, AppTest]:
    """One round open in two sessions, both showing its first question."""
    first = new_session()
    start_round(first, count=count)
    second = new_session()
    next(b for b in second.button if b.label.startswith("Resume round")).click().run()
    assert not second.exception, second.exception
    return first, second


def round_caption(at: AppTest) -> str:
    """'Round <id> · practice · question N of M · graded by ...': where the round stands."""
    return next(element.value for element in at.caption if element.value.startswith("Round "))


def asked_now(at: AppTest) -> list[str]:
    """Everything drawn in the last assistant message: the question the round asks now (a bank question is Markdown,
    a follow-up plain text)."""
    message = at.chat_message[-1]
    return [element.value for kind in ("markdown", "text") for element in message.get(kind)]


def warnings(at: AppTest) -> str:
    return "\n".join(element.value for element in at.warning)


def test_an_answer_from_a_tab_the_round_has_moved_past_is_not_saved_and_kept_in_the_box(app_env: Settings) -> None:
    tab_a, tab_b = same_round_in_two_tabs()
    answer(tab_b, FULL)  # question 1 answered in tab B
    stale = "Written in tab A for question 1, which tab B has already answered."
    answer(tab_a, stale)
    assert "moved past" in warnings(tab_a)
    assert tab_a.chat_input[0].value == stale  # the text is back in the box
    assert round_caption(tab_a) == round_caption(tab_b)  # the page shows what the round asks now
    assert asked_now(tab_a) == asked_now(tab_b)
    (record,) = open_store(app_env).list_rounds(owner=LOCAL_OWNER)
    assert [turn.answer for turn in record.turns] == [FULL]


def queue_as_sent(at: AppTest, *answers: str) -> None:
    """Answers typed and sent from `at` for the question it shows, not yet taken: what a burst of Enter presses
    leaves queued (the page's Submission: text, the question shown, no recording)."""
    shown = at.session_state["interview_shown_prompt"]
    queued = [SimpleNamespace(text=text, prompt=shown, spoken=None) for text in answers]
    at.session_state["interview_queued_answers"] = queued


def test_a_burst_of_answers_for_a_question_already_answered_all_come_back_to_the_box(app_env: Settings) -> None:
    tab_a, tab_b = same_round_in_two_tabs()
    answer(tab_b, FULL)
    burst = [f"Burst answer {n} written in tab A for question 1." for n in range(3)]
    queue_as_sent(tab_a, *burst[:2])
    answer(tab_a, burst[2])
    assert "moved past" in warnings(tab_a)
    assert all(text in tab_a.chat_input[0].value for text in burst)  # none overwritten by the next
    (record,) = open_store(app_env).list_rounds(owner=LOCAL_OWNER)
    assert [turn.answer for turn in record.turns] == [FULL]


def test_answers_still_queued_when_the_round_ends_are_shown_as_not_saved(app_env: Settings) -> None:
    at = new_session()
    start_round(at, count=1, mode="mock")
    late = "A second answer sent for the last question while the first was being graded."
    taken = [FULL, "While the server waits to fill a batch, each request waits too: up to the queue delay."]
    for text in taken:  # the question, then its follow-up if the round asks one
        queue_as_sent(at, text)
        answer(at, late)
        if " finished " in round_caption(at):
            break
    (record,) = open_store(app_env).list_rounds(owner=LOCAL_OWNER)
    assert " finished " in round_caption(at)
    assert [turn.answer for turn in record.turns] == taken[: len(record.turns)]
    assert "were not saved" in warnings(at)
    assert late in [element.value for element in at.text]


def test_a_round_deleted_elsewhere_sends_the_page_back_to_the_start_with_the_answer_shown(app_env: Settings) -> None:
    tab_a, _ = same_round_in_two_tabs()
    (record,) = open_store(app_env).list_rounds(owner=LOCAL_OWNER)
    open_store(app_env).delete_round(record.id, owner=LOCAL_OWNER)  # as the Review page does
    answer(tab_a, PARTIAL)
    assert "was deleted" in warnings(tab_a)
    assert PARTIAL in [element.value for element in tab_a.text]
    assert tab_a.button(key="start_submit") is not None  # the start form, not a dead end
    start_round(tab_a, count=1)  # and a new round starts from it
    assert "question 1 of 1" in texts(tab_a)


def test_a_round_ended_in_another_tab_sends_this_one_back_to_the_start(app_env: Settings) -> None:
    tab_a, tab_b = same_round_in_two_tabs()
    tab_b.button(key="end_round").click().run()
    answer(tab_a, PARTIAL)
    assert "ended in another tab" in warnings(tab_a)
    assert PARTIAL in [element.value for element in tab_a.text]
    (record,) = open_store(app_env).list_rounds(owner=LOCAL_OWNER)
    assert record.turns == [] and record.ended_at is not None


def test_knowledge_page_searches_and_browses(app_env: Settings) -> None:
    at = new_session()
    at.switch_page("app_pages/knowledge.py").run()
    at.text_input[0].input("int8 calibration").run()
    assert not at.exception, at.exception
    assert any("quantiz" in e.label.lower() for e in at.expander)
    assert not at.info
    at.text_input[0].input("zebra crossing lollipop").run()
    assert "Nothing in the knowledge base is close" in at.info[0].value


def test_settings_page_never_shows_the_key(app_env: Settings) -> None:
    at = new_session()
    at.switch_page("app_pages/settings.py").run()
    at.text_input(key="settings_api_key").input("sk-very-secret-key")
    at.text_input(key="settings_base_url").input("http://127.0.0.1:9/v1")
    at.button(key="settings_save").click().run()
    assert not at.exception, at.exception
    assert "Saved" in at.success[0].value
    assert load_settings().llm_api_key.get_secret_value() == "sk-very-secret-key"
    assert "A key is set" in at.text_input(key="settings_api_key").label
    rendered = str(
        [element.value for kind in ("text_input", "markdown", "caption", "success") for element in at.get(kind)]
    )
    assert "sk-very-secret-key" not in rendered
    assert at.text_input(key="settings_api_key").value == ""


def test_a_new_endpoint_saved_without_a_key_drops_the_old_key_and_says_so(app_env: Settings) -> None:
    save_settings_file(app_env, {"llm_base_url": "http://127.0.0.1:9/v1", "llm_api_key": "sk-for-port-9"})
    at = new_session()
    at.switch_page("app_pages/settings.py").run()
    assert "A key is set for this endpoint" in at.text_input(key="settings_api_key").label
    at.text_input(key="settings_base_url").input("http://127.0.0.1:8/v1")
    at.button(key="settings_save").click().run()
    assert not at.exception, at.exception
    assert "saved API key was for http://127.0.0.1:9/v1, so it was removed" in at.success[0].value
    assert load_settings().llm_key is None
    assert "No key is set for this endpoint" in at.text_input(key="settings_api_key").label


def test_an_endpoint_that_never_answers_is_tested_in_seconds_then_rests_until_tried_again(
    app_env: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INTERVIEWER_GRADER", "llm")
    silent = SilentEndpoint().start()
    try:
        save_settings_file(app_env, {"llm_base_url": silent.base_url, "llm_timeout": 1.0})
        at = new_session()
        at.switch_page("app_pages/settings.py").run()
        assert not at.warning  # nothing is known about the endpoint yet
        started = time.monotonic()
        at.button[1].click().run()  # "Test the connection"
        assert time.monotonic() - started < 10  # the issue measured 92 s
        assert "did not work" in at.error[0].value and "did not answer within 1 s" in texts(at)
        assert "did not answer at" in at.warning[0].value and "until you try again" in at.warning[0].value
        at.button(key="grader_try_again").click().run()
        assert not at.exception, at.exception
        assert not at.warning and get_runtime().grading.outage() is None
    finally:
        silent.stop()


def test_saving_settings_keeps_the_model_that_is_already_loaded(app_env: Settings) -> None:
    at = new_session()
    before = get_runtime()
    at.switch_page("app_pages/settings.py").run()
    at.text_input(key="settings_base_url").input("http://127.0.0.1:9/v1")
    at.button(key="settings_save").click().run()
    assert not at.exception, at.exception
    after = get_runtime()
    assert after is not before and after.settings.llm_base_url == "http://127.0.0.1:9/v1"
    assert after.embedder is before.embedder  # a new endpoint does not load (and hold) a second model


def test_the_first_page_is_drawn_before_the_model_and_then_loads_it(app_env: Settings) -> None:
    at = new_session()  # the start form needs only the index and the store
    assert at.button(key="start_submit") is not None
    model = get_runtime().embedder
    deadline = time.monotonic() + 120
    while not model.loaded and time.monotonic() < deadline:  # nothing has asked for an encode: the page started it
        time.sleep(0.05)
    assert model.loaded


def test_the_grade_card_checks_a_computed_figure_and_shows_the_working(app_env: Settings) -> None:
    (app_env.knowledge_dir / "90-kv-sizing.md").write_text(KV_DOCUMENT, encoding="utf-8")
    at = new_session()
    start_round(at, count=1, focus=KV_DOCUMENT.splitlines()[0].removeprefix("Q: "))
    assert "Llama-3.1-70B" in at.chat_message[0].markdown[1].value
    answer(at, "K and V for 80 layers and 8 KV heads in BF16: about 160 KB per token, so 5 GB for 32k tokens.")
    page = texts(at)
    assert "KV cache per token: 160 KB is wrong (expected 327,680 bytes ± 2%)" in page
    assert "KV cache for a 32k-token context: 5 GB is wrong (expected 10.7 GB ± 5%)" in page
    assert "Working: 2 x 80 layers" in page
    assert "should be about 327,680 bytes" in page  # named in what to add

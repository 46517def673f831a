"""Pure pieces of chunked and background imports (issue 19): chunking, what a resumed job
counts, when a job is given up, the similar-name shortlist and the CLI's progress bar."""

from __future__ import annotations

import random

import pytest

from services.registry.domain.conflicts import similar_among
from services.registry.domain.import_jobs import (
    MAX_ATTEMPTS,
    chunks,
    existing_on_resume,
    give_up,
    unchanged_on_resume,
)
from services.registry.io_cli import progress_bar
from services.registry.names import similar


def test_chunks_cover_every_item_once_in_order() -> None:
    items = list(range(1_234))
    parts = list(chunks(items, 500))
    assert [len(p) for p in parts] == [500, 500, 234]
    assert [x for p in parts for x in p] == items
    assert list(chunks([], 500)) == []
    assert [list(p) for p in chunks([1, 2], 5)] == [[1, 2]]
    with pytest.raises(ValueError):
        list(chunks(items, 0))


def test_resumed_job_counts_its_own_rows_as_created_not_existing() -> None:
    # 1,000 rows, 30 existed before the job, the job stored 500 before it was cut off: its
    # second check finds 530 stored; 30 of them existed before.
    assert existing_on_resume(530, 500) == 30
    assert existing_on_resume(30, 0) == 30
    assert existing_on_resume(0, 0) == 0


def test_unchanged_on_resume_leaves_out_the_jobs_own_edits() -> None:
    # 10 coded rows, 3 equal to their project from the start, the job edited the other 7 before
    # it was cut off: its second check finds all 10 unchanged; 3 of them were so before.
    assert unchanged_on_resume(10, 7) == 3
    assert unchanged_on_resume(3, 0) == 3


def test_job_given_up_after_max_attempts() -> None:
    assert not give_up(MAX_ATTEMPTS - 1) and give_up(MAX_ATTEMPTS)


def test_similar_shortlist_keeps_every_similar_name() -> None:
    """The C-scored shortlist is a superset of what ``similar`` accepts, in order."""
    rng = random.Random(5)
    alphabet = "星辰科技网络海天软件恒瑞医疗数据智能"
    names = ["".join(rng.choice(alphabet) for _ in range(rng.randint(2, 7))) for _ in range(400)]
    for norm in names[:60]:
        picked = similar_among(norm, names)
        assert picked == sorted(picked)
        assert {i for i, n in enumerate(names) if similar(norm, n) and len(norm) >= 4} <= set(picked)
    assert similar_among("星辰", names) == []  # names under 4 characters are never "similar"
    assert similar_among("星辰科技", []) == []


def test_progress_bar() -> None:
    assert progress_bar(0, 0, label="检查", width=10) == "检查 [..........] 0/0 行"
    assert progress_bar(5_000, 10_000, label="写入", width=10) == "写入 [#####.....] 5,000/10,000 行"
    assert progress_bar(10_000, 10_000, label="写入", width=4) == "写入 [####] 10,000/10,000 行"


def test_polling_an_import_job_is_not_an_upload() -> None:
    from baobei.core.settings import Settings
    from edge.guard import classify

    settings = Settings()
    poll = classify(settings, "GET", "/api/v1/imports/abc", {}, "")
    post = classify(settings, "POST", "/api/v1/imports/projects", {"content-type": "multipart/form-data; b=x"}, "")
    assert "uploads" not in poll.limits and "uploads" in post.limits

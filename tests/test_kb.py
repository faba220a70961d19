"""The knowledge base: import (Markdown and XLSX; new versions only for changed articles;
every problem named, nothing recorded), versions and citations, search that never answers
from an expired article and answers nothing when nothing fits, and the CLI."""

from __future__ import annotations

import io
import json
from datetime import date
from pathlib import Path

import pytest

from adapters.bootstrap import Engine
from adapters.kb import KbDesk, kb_desk
from adapters.kb_files import read_kb_bytes
from adapters.kb_search import SIGNALS
from domain.errors import InvalidInput
from domain.values import Actor
from tests.test_cli import refused, rexian

SAMPLE = Path(__file__).parent / "fixtures" / "kb" / "sample.md"
ADMIN = Actor("admin", "kb-tests")
TODAY = date(2026, 6, 1)


def events(engine: Engine) -> int:
    return engine.service.recorder.max_notification_id() or 0


@pytest.fixture
def desk(sqlite_engine: Engine) -> KbDesk:
    found = kb_desk(sqlite_engine)
    found.import_file(SAMPLE, actor=ADMIN)
    return found


def test_import_publishes_then_records_only_changes(sqlite_engine: Engine) -> None:
    desk = kb_desk(sqlite_engine)
    first = desk.import_file(SAMPLE, actor=ADMIN)
    assert sorted(first["published"]) == ["KB-GJJ-001", "KB-GJJ-002", "KB-HJ-001",
                                          "KB-YB-001", "KB-YB-002"]
    assert first["articles"] == 5
    before = events(sqlite_engine)
    again = desk.import_file(SAMPLE, actor=ADMIN)
    assert again["published"] == again["revised"] == [] and len(again["unchanged"]) == 5
    assert events(sqlite_engine) == before  # nothing recorded
    changed = SAMPLE.read_bytes().replace("约二十个工作日".encode(), "约十五个工作日".encode())
    revised = desk.import_bytes("sample.md", changed, actor=ADMIN)
    assert revised["revised"] == ["KB-HJ-001"] and len(revised["unchanged"]) == 4
    now, old = desk.show("KB-HJ-001"), desk.show("KB-HJ-001", version=1)
    assert (now["version"], now["citation"]) == (2, "KB-HJ-001 v2")
    assert "十五" in now["short_answer"] and "二十" in old["short_answer"]
    assert old["file"] == "sample.md" and now["title"] == "身份证补办"
    with pytest.raises(InvalidInput, match="no version 3"):
        desk.show("KB-HJ-001", version=3)
    with pytest.raises(InvalidInput, match="no article"):
        desk.show("KB-XX-999")
    assert sqlite_engine.verify().ok  # the articles' events are sealed and chained


def test_search_cites_the_version_and_never_speaks_an_expired_article(desk: KbDesk) -> None:
    found = desk.search("我在外地住，看病的话医保要先去备案吗", on=TODAY)
    assert found["answer"]["key"] == "KB-YB-001"
    assert found["answer"]["citation"] == "KB-YB-001 v1"
    assert found["answer"]["follow_ups"] == ["KB-YB-002"]
    # The expired article's own question form, word for word: its replacement answers.
    rent = desk.search("租房能提取公积金吗", on=TODAY, limit=10)
    assert rent["answer"]["key"] == "KB-GJJ-002"
    assert "KB-GJJ-001" not in [h["key"] for h in rent["hits"]]
    listed = {a["key"]: a["valid"] for a in desk.list(on=TODAY)["articles"]}
    assert listed["KB-GJJ-001"] is False and listed["KB-GJJ-002"] is True
    assert desk.valid_article("KB-GJJ-001") is None or desk.today() <= date(2024, 12, 31)
    # Before the old rule expired it was the answer, and the new one did not exist yet.
    then = desk.search("租房能提取公积金吗", on=date(2024, 6, 1))
    assert then["answer"]["key"] == "KB-GJJ-001"
    # Nothing in the base answers a noise complaint.
    assert desk.search("楼下饭店半夜很吵，油烟也大", on=TODAY)["answer"] is None
    with pytest.raises(InvalidInput):
        desk.search("   ", on=TODAY)
    with pytest.raises(InvalidInput, match="limit"):
        desk.search("身份证", limit=0, on=TODAY)


BAD_FILES = [
    ("notes.txt", b"## KB-SB-001 x\n", "must be a .md or .xlsx file"),
    ("bad.md", b"## KB-SB-001 \xff\xfe\n", "not UTF-8 near line 1"),
    ("nul.md", b"## KB-SB-001 t\x00\n", "NUL bytes"),
    ("empty.md", b"# only a title\n", "no articles"),
    ("unknown.md", "## KB-SB-001 标题\n- 颜色：红\n".encode(), "line 2"),
    ("missing.md", "## KB-SB-001 标题\n- 领域：社保\n- 问法：问\n- 单位：区人社局\n".encode(),
     "missing short_answer"),
    ("dates.md", "## KB-SB-001 标题\n- 领域：社保\n- 问法：问\n- 简答：答\n- 单位：区人社局\n"
     "- 有效期：2025-13-01 至 2024-01-01\n".encode(), "is not a date"),
    ("order.md", "## KB-SB-001 标题\n- 领域：社保\n- 问法：问\n- 简答：答\n- 单位：区人社局\n"
     "- 有效期：2025-01-01 至 2024-01-01\n".encode(), "valid-to before valid-from"),
    ("links.md", "## KB-SB-001 标题\n- 领域：天气\n- 问法：问\n- 简答：答\n- 单位：区人社局\n"
     "- 追问：KB-SB-404\n## KB-SB-001 又一个\n- 领域：社保\n- 问法：问\n- 简答：答\n"
     "- 单位：区人社局\n## kb-1 坏编号\n".encode(), "follow-up KB-SB-404 is no article"),
    ("fake.xlsx", b"not a workbook", "not a valid XLSX workbook"),
]


def test_search_reads_a_question_however_it_is_written_or_heard(desk: KbDesk) -> None:
    plain = desk.search("身份证丢了怎么补办", on=TODAY)["answer"]
    assert plain["key"] == "KB-HJ-001" and 0 < plain["coverage"] <= 1
    for said in ("請問一下，身份證丟了怎麼補辦？",  # traditional characters, as whisper writes
                 "那个，我想问一下身份证丢了怎么补办呀",  # fillers
                 "身份证掉了咋补"):  # spoken forms (掉了, 咋) mapped to the base's terms
        assert desk.search(said, on=TODAY)["answer"]["key"] == "KB-HJ-001", said
    # A recogniser's homophones (身份正, 不办) sound like the form: its pinyin matches in full.
    heard = desk.search("身份正丢了怎么不办", on=TODAY)["hits"]
    assert heard[0]["key"] == "KB-HJ-001"
    retriever = desk.retriever(TODAY)
    column = [a.key for a in retriever.articles].index("KB-HJ-001")
    sounds, chars = SIGNALS.index("pinyin"), SIGNALS.index("forms")
    misheard = retriever.signals("身份正丢了怎么不办")
    assert misheard is not None
    assert misheard[0][sounds, column] == pytest.approx(1.0)
    assert misheard[0][chars, column] < 0.9  # its characters differ
    # Words the base never uses (天气) weigh as rare ones: the best article covers too little.
    weather = desk.search("明天宁波天气怎么样会不会下雨", on=TODAY)
    assert weather["answer"] is None and weather["hits"]
    assert weather["hits"][0]["coverage"] < plain["coverage"]


@pytest.mark.parametrize(("name", "data", "named"), BAD_FILES, ids=[b[0] for b in BAD_FILES])
def test_a_bad_file_is_refused_whole_naming_its_problems(sqlite_engine: Engine, name: str,
                                                         data: bytes, named: str) -> None:
    desk = kb_desk(sqlite_engine)
    before = events(sqlite_engine)
    with pytest.raises(InvalidInput) as error:
        desk.import_bytes(name, data, actor=ADMIN)
    assert named in error.value.en and error.value.zh
    assert events(sqlite_engine) == before
    if name == "links.md":  # every problem of the file, not just the first
        for also in ("unknown domain", "key repeated", "key must look like", "missing domain"):
            assert also in error.value.en


def test_xlsx_articles_import_like_markdown(sqlite_engine: Engine) -> None:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["编号", "标题", "领域", "问法", "简答", "全文", "追问", "来源", "生效日期",
                  "失效日期", "单位"])
    sheet.append(["KB-JY-001", "小学入学报名", "教育", "孩子上小学怎么报名；小学什么时候报名",
                  "每年五月通过甬江区义务教育招生平台报名。", None, None, "（样例）",
                  date(2024, 1, 1), None, "区教育局"])
    out = io.BytesIO()
    book.save(out)
    read = read_kb_bytes("jy.xlsx", out.getvalue())
    assert [a.key for a in read.articles] == ["KB-JY-001"]
    desk = kb_desk(sqlite_engine)
    desk.import_file(SAMPLE, actor=ADMIN)
    assert desk.import_file(read, actor=ADMIN)["published"] == ["KB-JY-001"]
    shown = desk.show("KB-JY-001")
    assert shown["valid_from"] == "2024-01-01" and shown["questions"][0] == "小学入学报名"
    assert desk.search("小孩读小学在哪里报名", on=TODAY)["answer"]["key"] == "KB-JY-001"


def test_cli_import_search_list_and_roles(tmp_path: Path) -> None:
    db = str(tmp_path / "kb.db")
    now = "2026-06-01T10:00:00+08:00"
    done = rexian(db, "--role", "admin", "kb", "import", str(SAMPLE), "--json", now=now)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["articles"] == 5
    found = rexian(db, "--role", "robot", "kb", "search", "补办身份证需要带什么", "--json",
                   now=now)
    assert found.returncode == 0, found.stderr
    assert json.loads(found.stdout)["answer"]["citation"] == "KB-HJ-001 v1"
    listed = rexian(db, "--role", "agent", "kb", "list", now=now)
    assert listed.returncode == 0 and "（已失效）" in listed.stdout
    shown = rexian(db, "kb", "show", "KB-YB-001", now=now)
    assert shown.returncode == 0 and "异地就医备案" in shown.stdout
    # A robot may read the base, not change it; a bad file names its problem, exit 2.
    assert "kb_import" in refused(db, now, "--role", "robot", "kb", "import", str(SAMPLE))
    bad = tmp_path / "bad.md"
    bad.write_text("## KB-SB-001 标题\n- 颜色：红\n", encoding="utf-8")
    assert "第 2 行" in refused(db, now, "--role", "admin", "kb", "import", str(bad))
    assert "cannot be read" in refused(db, now, "--role", "admin", "kb", "import",
                                       str(tmp_path / "missing.md"))


def test_several_files_import_at_once_with_follow_ups_across_them(sqlite_engine: Engine,
                                                                 tmp_path: Path) -> None:
    one, two = tmp_path / "one.md", tmp_path / "two.md"
    one.write_text("## KB-SB-001 退休办理\n- 领域：社保\n- 问法：怎么办退休\n- 简答：到区人社局办理。\n"
                   "- 追问：KB-SB-002\n- 单位：区人社局\n", encoding="utf-8")
    two.write_text("## KB-SB-002 养老金资格认证\n- 领域：社保\n- 问法：养老金怎么认证\n"
                   "- 简答：每年通过浙里办刷脸认证。\n- 单位：区人社局\n", encoding="utf-8")
    desk = kb_desk(sqlite_engine)
    before = events(sqlite_engine)
    with pytest.raises(InvalidInput, match="follow-up KB-SB-002"):
        desk.import_files([one], actor=ADMIN)  # alone, its follow-up names nothing
    assert events(sqlite_engine) == before
    done = desk.import_files([one, two], actor=ADMIN)
    assert sorted(done["published"]) == ["KB-SB-001", "KB-SB-002"]
    assert [f["file"] for f in done["files"]] == ["one.md", "two.md"]
    assert desk.show("KB-SB-002")["file"] == "two.md"


def test_history_of_an_article_as_of_a_moment(sqlite_engine: Engine) -> None:
    desk = kb_desk(sqlite_engine)
    desk.import_file(SAMPLE, actor=ADMIN)
    first = sqlite_engine.service.now()
    sqlite_engine.service.clock.advance(days=1)  # type: ignore[attr-defined]
    changed = SAMPLE.read_bytes().replace("约二十个工作日".encode(), "约十五个工作日".encode())
    desk.import_bytes("sample.md", changed, actor=ADMIN)
    whole = desk.history("KB-HJ-001")
    assert [e["type"] for e in whole["events"]] == ["Published", "Revised"]
    assert whole["events"][1]["actor"] == {"role": "admin", "id": "kb-tests"}
    then = desk.history("KB-HJ-001", first)
    assert then["state"]["version"] == 1 and "二十" in then["state"]["short_answer"]
    with pytest.raises(InvalidInput, match="no article"):
        desk.history("KB-HJ-404")


def test_the_shipped_sample_base_imports_whole(sqlite_engine: Engine) -> None:
    """config/kb/*.md (make run imports it): every article valid as data, follow-ups
    resolved, each domain present, expired articles marked （已废止） and never answered."""
    files = sorted((Path(__file__).parents[1] / "config" / "kb").glob("*.md"))
    desk = kb_desk(sqlite_engine)
    done = desk.import_files(files, actor=ADMIN)
    articles = desk.service.articles()
    assert done["articles"] == len(articles) >= 60
    today = date(2026, 12, 1)
    expired = [a for a in articles if not a.valid_on(today)]
    assert all("已废止" in a.title for a in expired)
    for a in expired:
        found = desk.search(a.title.replace("（已废止）", ""), on=today, limit=10)
        assert a.key not in [h["key"] for h in found["hits"]]
    assert len(desk.import_files(files, actor=ADMIN)["unchanged"]) == len(articles)

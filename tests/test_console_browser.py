"""The web console in a real browser: Debian's headless Chromium driven by Playwright
(.ci/run installs chromium on a fresh machine). Screenshots go to var/test-artefacts/."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.support.console import LONG_UNIT, Console, artefacts, console  # noqa: F401

__all__ = ["console"]
CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} missing: .ci/run installs it (apt-get install chromium)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM,
                                              args=["--headless", "--no-sandbox"])
        yield launched
        launched.close()


@pytest.fixture
def pages(browser: Browser, console: Console) -> Iterator[list[Page]]:
    """The test's pages, closed before the console stops (their live streams end first)."""
    opened: list[Page] = []
    yield opened
    for page in opened:
        page.close()


def logged_in(pages: list[Page], browser: Browser, c: Console, who: str) -> Page:
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    pages.append(page)
    page.goto(c.url + "/")
    assert page.url.endswith("/login")
    page.fill("#token", c.tokens[who])
    page.click("#login-button")
    page.wait_for_url(lambda url: not url.endswith("/login"))
    return page


def chart_values(page: Page, chart: str) -> dict[str, Any]:
    option = page.evaluate(
        """id => { const o = echarts.getInstanceByDom(document.getElementById(id)).getOption();
                   return Object.fromEntries(o.xAxis[0].data.map((k, i) => [k, o.series[0].data[i]])); }""",
        chart)
    return dict(option)


def test_overview_chart_equals_the_api_and_a_command_arrives_live(
        browser: Browser, console: Console, pages: list[Page]) -> None:
    page = logged_in(pages, browser, console, "supervisor")
    page.wait_for_function("() => window.echarts && document.querySelector('#chart-open-state canvas')")
    board = httpx.get(f"{console.url}/api/dashboard", headers=console.auth("supervisor")).json()
    page.wait_for_function("() => echarts.getInstanceByDom(document.getElementById('chart-open-state'))")
    assert chart_values(page, "chart-open-state") == board["open_by_state"]
    assert chart_values(page, "chart-ladder") == board["ladder"]
    page.wait_for_function("() => document.body.dataset.position !== undefined")
    page.screenshot(path=str(artefacts() / "console-overview.png"), full_page=True)
    assert fits(page)
    before = page.evaluate("document.body.dataset.position")
    console.intake("新的诉求：实时更新")
    page.wait_for_function("p => document.body.dataset.position !== p", arg=before, timeout=10_000)
    page.wait_for_function(
        "n => { const o = echarts.getInstanceByDom(document.getElementById('chart-open-state')).getOption();"
        " return o.series[0].data[0] === n; }", arg=board["open_by_state"]["已受理"] + 1)
    page.screenshot(path=str(artefacts() / "console-overview-live.png"), full_page=True)


def test_order_timeline_as_of_control_moves_the_order_back(
        browser: Browser, console: Console, pages: list[Page]) -> None:
    no = console.orders["区城管局"]
    console.engine.service.clock.advance(hours=2)  # type: ignore[attr-defined]
    console.engine.service.sign(no, dept="区城管局", actor=console.engine.access.matrix.check(
        console.engine.access.authenticate(console.tokens["dispatcher"]), "sign").actor())
    page = logged_in(pages, browser, console, "auditor")
    page.goto(f"{console.url}/orders/{no}")
    page.wait_for_selector("#timeline ol li")
    assert page.locator("#timeline ol li").count() == 3
    assert "办理中" in page.inner_text("#current-table")
    page.wait_for_selector("#verify-status")
    assert "通过" in page.inner_text("#verify-status")
    page.fill("#as-of", "1")  # the second event: dispatched, not yet signed
    page.dispatch_event("#as-of", "input")
    page.wait_for_function("() => document.body.dataset.asOfVersion === '2'")
    assert "已派单" in page.inner_text("#as-of-state")
    assert "138****5678" in page.inner_text("#as-of-state")  # masked caller
    assert page.locator("#timeline li.future").count() == 1
    page.screenshot(path=str(artefacts() / "console-order-as-of.png"), full_page=True)


def test_a_unit_cannot_open_another_units_order(browser: Browser, console: Console,
                                               pages: list[Page]) -> None:
    page = logged_in(pages, browser, console, "区城管局")
    assert page.url.endswith("/worklists")  # a unit's start page is its own list
    page.wait_for_selector("#unit-orders table")
    assert console.orders["区城管局"] in page.inner_text("#unit-orders")
    assert console.orders["区水务局"] not in page.inner_text("#unit-orders")
    page.goto(f"{console.url}/orders/{console.orders['区水务局']}")
    page.wait_for_selector("#order-state .error")
    assert "403" in page.inner_text("#order-state .error")
    assert "13812345678" not in page.content()
    page.screenshot(path=str(artefacts() / "console-unit-refused.png"), full_page=True)


def fits(page: Page) -> bool:
    """No horizontal scrollbar at 1366x768: long names wrap or are cut, never widen."""
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


def test_long_unit_names_keep_the_layout_at_1366x768(browser: Browser, console: Console,
                                                     pages: list[Page]) -> None:
    page = logged_in(pages, browser, console, "dispatcher")
    page.goto(f"{console.url}/worklists")
    page.wait_for_selector(f'#unit-select option[value="{LONG_UNIT}"]', state="attached")
    page.select_option("#unit-select", LONG_UNIT)
    page.wait_for_selector("#unit-orders table")
    assert console.orders[LONG_UNIT] in page.inner_text("#unit-orders")
    assert fits(page)
    page.screenshot(path=str(artefacts() / "console-worklists-long-unit.png"), full_page=True)
    page.goto(f"{console.url}/orders/{console.orders[LONG_UNIT]}")
    page.wait_for_selector("#timeline ol li")
    assert LONG_UNIT in page.inner_text("#current-table") and fits(page)
    page.screenshot(path=str(artefacts() / "console-order-long-unit.png"), full_page=True)


def test_overview_kpi_chart_equals_the_report_and_the_page_downloads_it(
        browser: Browser, console: Console, pages: list[Page]) -> None:
    from adapters.http.panels import month_start
    from adapters.report_files import csv_bytes
    from adapters.reports import build_report
    from domain.kpi.registry import BEIJING

    today = console.engine.service.now().astimezone(BEIJING).date()
    first = month_start(today)
    page = logged_in(pages, browser, console, "supervisor")
    page.wait_for_function(
        "() => window.echarts && document.getElementById('chart-intake_month_category')"
        " && echarts.getInstanceByDom(document.getElementById('chart-intake_month_category'))")
    report = httpx.get(f"{console.url}/api/report?from={first}&to={today}&by=category",
                       headers=console.auth("supervisor")).json()
    assert chart_values(page, "chart-intake_month_category") == {
        r["group"]: r["kpis"]["direct_answer_rate"]["denominator"] for r in report["rows"]}
    page.goto(f"{console.url}/reports")
    page.fill("input[name=date_from]", first.isoformat())
    page.fill("input[name=date_to]", today.isoformat())
    page.select_option("select[name=by]", "dept")
    page.click("form.filters button")
    page.wait_for_selector('#report-table td.unit[title="区城管局"]')  # the by-unit run's table
    with page.expect_download() as download:
        page.click("#download-csv")
    saved = Path(download.value.path())
    assert saved.read_bytes() == csv_bytes(build_report(console.engine, first, today, "dept"))
    assert download.value.suggested_filename == f"rexian-report-{first}-{today}-dept.csv"
    assert fits(page)
    page.screenshot(path=str(artefacts() / "console-reports.png"), full_page=True)


def test_agent_assist_shows_articles_as_the_agent_types(
        browser: Browser, console: Console, pages: list[Page]) -> None:
    from adapters.kb import kb_desk
    from tests.test_kb import ADMIN, SAMPLE

    kb_desk(console.engine).import_file(SAMPLE, actor=ADMIN)
    page = logged_in(pages, browser, console, "dispatcher")
    page.goto(f"{console.url}/kb")
    page.fill("#kb-text", "来电人说他的身份证丢了，问补办要带什么")
    page.wait_for_selector('#kb-hits li[data-key="KB-HJ-001"]')
    first = page.locator("#kb-hits li").first
    assert first.get_attribute("data-key") == "KB-HJ-001"
    assert "〔KB-HJ-001 v1〕" in first.inner_text()
    assert "KB-GJJ-001" not in page.inner_text("#kb-results")  # expired: never shown
    assert fits(page)
    page.screenshot(path=str(artefacts() / "console-kb-assist.png"), full_page=True)


def test_order_page_suggests_units_dispatches_in_one_pick_and_merges_a_duplicate(
        browser: Browser, console: Console, pages: list[Page]) -> None:
    from adapters.dispatch import desk
    from domain.values import Actor
    from tests.test_dispatch_suggest import history_from_corpus
    from tools.make_dispatch_corpus import CATALOGUE

    engine = console.engine
    desk(engine).import_catalogue(CATALOGUE, actor=Actor("admin", "ops"))
    history_from_corpus(engine, every=8)  # a model trained on the centre's own history
    desk(engine).train(actor=Actor("admin", "ops"))
    first = console.intake("楼下饭店油烟太大，烧烤油烟熏人，窗户都不敢开")
    again = console.intake("楼下那家饭店烧烤油烟太大了，熏得人受不了")
    expected = desk(engine).suggest_order(first)["suggestions"]
    assert len(expected) >= 2
    page = logged_in(pages, browser, console, "dispatcher")
    page.goto(f"{console.url}/orders/{first}")
    page.wait_for_selector("#suggestions li")
    shown = page.locator("#suggestions li")
    assert shown.count() == len(expected) <= 3
    for i, s in enumerate(expected):
        text = shown.nth(i).inner_text()
        assert s["dept"] in text and f"{s['score']:.2f}" in text and s["reason"] in text
    page.wait_for_function("() => document.body.dataset.picked")
    assert page.input_value("#dispatch-dept") == expected[0]["dept"]  # the best, preselected
    page.click("#pick-2")  # one click picks another suggestion ...
    assert page.input_value("#dispatch-dept") == expected[1]["dept"]
    assert page.input_value("#dispatch-assist") == "、".join(expected[1]["assist"])
    page.click("#pick-1")  # ... or the best again
    assert page.input_value("#dispatch-dept") == expected[0]["dept"]
    page.screenshot(path=str(artefacts() / "console-order-suggestions.png"), full_page=True)
    page.click("#dispatch-button")
    page.wait_for_function("() => document.querySelector('#current-table')"
                           " && document.querySelector('#current-table').innerText.includes('已派单')")
    view = engine.service.show(first)
    assert view["state"] == "已派单" and view["department"] == expected[0]["dept"]
    assert view["assist_departments"] == expected[0]["assist"]
    assert page.locator("#dispatch-form").count() == 0  # dispatched: no form any more
    page.goto(f"{console.url}/orders/{again}")
    page.wait_for_selector("#duplicates button.merge")
    assert first in page.inner_text("#duplicates")
    assert fits(page)
    page.screenshot(path=str(artefacts() / "console-order-duplicates.png"), full_page=True)
    page.click(f'#duplicates button.merge[data-ticket="{first}"]')
    page.wait_for_function("() => document.querySelector('#current-table')"
                           " && document.querySelector('#current-table').innerText.includes('已合并')")
    assert engine.service.show(again)["state"] == "已合并"
    assert engine.service.history(again)["events"][-1]["actor"] == {
        "role": "dispatcher", "id": "dispatcher-1"}


def test_an_auditor_sees_the_duplicates_but_no_command(
        browser: Browser, console: Console, pages: list[Page]) -> None:
    first = console.intake("楼下饭店油烟太大，烧烤油烟熏人")
    again = console.intake("楼下那家饭店烧烤油烟太大了")
    page = logged_in(pages, browser, console, "auditor")
    page.goto(f"{console.url}/orders/{again}")
    page.wait_for_selector("#duplicates")
    assert first in page.inner_text("#duplicates")
    assert page.locator("#duplicates button.merge").count() == 0
    assert page.locator("#order-suggestions").count() == 0  # auditors are not offered units

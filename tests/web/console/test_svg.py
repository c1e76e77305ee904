"""The console's bar charts: accessible, escaped, and styled without inline styles."""

from __future__ import annotations

from bs4 import BeautifulSoup

from server.web.console.svg import Bar, bar_chart, short


def parse(markup: str) -> BeautifulSoup:
    return BeautifulSoup(markup, "html.parser")


def test_one_bar_per_value_scaled_to_the_largest():
    svg = parse(bar_chart([Bar("登记", 4), Bar("受理", 2), Bar("办结", 0, text="无")], "各状态"))
    chart = svg.svg
    assert chart["role"] == "img" and chart["aria-label"] == "各状态"
    assert chart.title.get_text() == "各状态"
    bars = chart.select("g.bar")
    assert [b["data-value"] for b in bars] == ["4", "2", "0"]
    assert [b.select_one("text.value").get_text() for b in bars] == ["4", "2", "无"]
    widths = [float(b.rect["width"]) for b in bars]
    assert widths[0] == 2 * widths[1] and widths[2] == 0
    assert int(chart["height"]) == 3 * (20 + 6) + 6
    assert "style" not in str(svg) and "script" not in str(svg)


def test_labels_and_titles_are_escaped():
    markup = str(bar_chart([Bar("<script>alert(1)</script>", 1, css_class="x")], 'a"b<c'))
    assert "<script>" not in markup
    assert "&lt;script&gt;" in markup
    assert 'aria-label="a&#34;b&lt;c"' in markup
    assert parse(markup).select_one("g.bar.x") is not None


def test_no_bars_shows_the_empty_text():
    chart = parse(bar_chart([], "每月打卡", empty_text="暂无数据")).svg
    assert "empty" in chart["class"] and chart.select("g.bar") == []
    assert chart.select_one("text.empty").get_text() == "暂无数据"


def test_long_labels_are_cut_but_kept_whole_in_the_bar_title():
    label = "全域锋领党建联盟签约地与红色教育基地"
    assert short("Land and boundary", 142) == "Land and boundary"
    assert short(label, 142).endswith("…") and len(short(label, 142)) < len(label)
    bar = parse(bar_chart([Bar(label, 3)], "打卡点")).select_one("g.bar")
    assert bar.title.get_text() == f"{label}: 3"
    assert bar.select_one("text.label").get_text() == short(label, 142)

"""The console's HTML shells: navigation, the page's name for static/console.js, the session's
CSRF value. Everything shown is fetched from the JSON APIs and inserted as text."""

from __future__ import annotations

from html import escape

from domain.access.roles import STAFF_ROLES, Identity

NAV = (("/", "总览"), ("/worklists", "工作清单"), ("/reports", "报表"), ("/kb", "知识库"))


def page(name: str, title: str, who: Identity | None, csrf: str) -> str:
    user = ""
    if who is not None:
        roles = "、".join(STAFF_ROLES.get(r, r) for r in who.roles)
        unit = f"（{escape(who.dept)}）" if who.dept else ""
        user = (f'<span class="who" title="{escape(who.id)}">{escape(who.id)} · {roles}{unit}'
                '</span><button id="logout" type="button">退出</button>')
    links = "".join(f'<a href="{href}">{label}</a>' for href, label in NAV) if who else ""
    charts = '<script src="/static/echarts.min.js"></script>' if name in (
        "overview", "reports") else ""
    return f"""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="csrf" content="{escape(csrf)}">
<title>{escape(title)} · Rexian 12345</title>
<link rel="stylesheet" href="/static/console.css">{charts}
<script src="/static/console.js" defer></script></head>
<body data-page="{escape(name)}">
<header><strong>12345 工单控制台</strong><nav>{links}</nav>{user}</header>
<main id="main"></main>
</body></html>"""

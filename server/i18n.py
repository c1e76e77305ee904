"""User-facing text for error codes and validation reasons, in zh-CN and en."""

from __future__ import annotations

import re

LANGUAGES = ("zh-CN", "en")
DEFAULT_LANGUAGE = "zh-CN"

ERROR_MESSAGES: dict[str, tuple[str, str]] = {
    "validation_failed": (
        "提交的数据有误，请检查标出的字段。",
        "Some fields are invalid; see details.",
    ),
    "invalid_json": ("请求内容不是有效的 JSON。", "The request body is not valid JSON."),
    "too_deeply_nested": (
        "请求内容嵌套层数过多。",
        "The request body is nested too deeply.",
    ),
    "server_error": (
        "服务器无法处理此记录，已保留在手机上，请稍后重试或导出后联系管理员。",
        "The server could not process this record; it is kept on the phone. Try again later "
        "or export it and contact your administrator.",
    ),
    "invalid_credentials": ("用户名或密码错误。", "Wrong username or password."),
    "too_many_attempts": (
        "登录尝试次数过多，请稍后再试。",
        "Too many login attempts; try again later.",
    ),
    "too_many_attempts.wait": (
        "登录失败次数过多，请在 {wait}后再试。",
        "Too many failed logins; try again in {wait}.",
    ),
    "unauthorized": ("请先登录。", "Sign in first."),
    "invalid_token": (
        "登录已失效，请重新登录。",
        "Your session is no longer valid; sign in again.",
    ),
    "device_revoked": (
        "此设备已被停用，请联系管理员。",
        "This device has been revoked; contact your administrator.",
    ),
    "account_disabled": ("此账号已停用。", "This account is disabled."),
    "token_expired": (
        "登录已过期，请重新输入密码。未同步的内容仍保存在本机。",
        "Your sign-in has expired; enter your password again. Unsent work stays on this phone.",
    ),
    "forbidden": ("您没有权限执行此操作。", "You are not allowed to do this."),
    "read_only": ("集成账号只能读取数据。", "Integration accounts can only read."),
    "not_found": ("记录不存在或您无权查看。", "The record does not exist or you cannot see it."),
    "record_exists": ("该记录编号已存在。", "A record with this id already exists."),
    "mutation_id_reused": (
        "此操作的编号已被此设备的另一位用户使用过，服务器未执行。请重新录入这项内容。",
        "This change's id was already used on this device by another person; the server did "
        "not run it. Enter it again.",
    ),
    "depends_on_rejected": (
        "此操作依赖的记录未被服务器接受。",
        "This change depends on a record the server rejected.",
    ),
    "stale_transition": (
        "案件状态已被他人更改，请刷新后重试。",
        "The case status changed meanwhile; refresh and try again.",
    ),
    "invalid_transition": ("流程中不允许这一步。", "The workflow does not allow this move."),
    "invalid_assignee": (
        "只能指派给案件所涉乡镇的在岗人员。",
        "The assignee must be an active member of a town the case involves.",
    ),
    "invalid_handoff": (
        "无法移交：案件已结束、目标就是主办乡镇，或已有待处理的移交请求。",
        "Cannot hand off: the case is finished, the town leads it already, or a request is open.",
    ),
    "stale_record": (
        "案件已被他人更改，请查看最新内容后再处理。",
        "The case changed meanwhile; look at its current state and try again.",
    ),
    "already_settled": ("此事项已被处理。", "This has already been settled."),
    "csrf_failed": (
        "表单已过期或来源不明，请刷新页面后重试。",
        "The form expired or did not come from this site; reload the page and try again.",
    ),
    "payload_too_large": ("提交的数据过大。", "The request is too large."),
    "schema_version_missing": (
        "缺少 X-Schema-Version 请求头。",
        "The X-Schema-Version header is missing.",
    ),
    "unsupported_schema_version": (
        "服务器不支持此客户端版本。",
        "The server does not support this schema version.",
    ),
    "client_outdated": ("应用版本过旧，请先更新。", "This app is out of date; update it first."),
    "invalid_cursor": ("同步游标无效。", "The sync cursor is invalid."),
    "resync_required": ("需要重新完整同步。", "A full resync is required."),
    "hash_mismatch": ("照片内容与其哈希不符。", "The photo does not match its hash."),
    "unsupported_media_type": (
        "只接受 JPEG、PNG 或 WebP 图片。",
        "Only JPEG, PNG or WebP images are accepted.",
    ),
    "photo_unreadable": (
        "照片无法完整读取（文件已损坏或不完整），未保存。请重新拍摄或选择照片。",
        "The photo cannot be read in full (the file is damaged or incomplete); it was not "
        "stored. Take or choose the photo again.",
    ),
    "photo_too_many_pixels": (
        "照片像素过多（超过 6000 万像素），未保存。",
        "The photo has too many pixels (over 60 million); it was not stored.",
    ),
    "temporarily_unavailable": (
        "服务器暂时繁忙，请稍后重试。",
        "The server is busy; try again shortly.",
    ),
    "method_not_allowed": ("不支持此请求方法。", "This method is not allowed here."),
    "bad_request": ("请求有误。", "Bad request."),
    "internal_error": ("服务器内部错误。", "Internal server error."),
}

# Marshmallow's English reasons, matched and rendered in Chinese.
_REASONS_ZH: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^Missing data for required field\.$"), "必填项。"),
    (re.compile(r"^Unknown field\.$"), "不允许的字段。"),
    (re.compile(r"^Field may not be null\.$"), "不能为空。"),
    (re.compile(r"^Not a valid string\.$"), "应为文本。"),
    (re.compile(r"^Not a valid integer\.$"), "应为整数。"),
    (re.compile(r"^Not a valid number\.$"), "应为数字。"),
    (re.compile(r"^Not a valid boolean\.$"), "应为是或否。"),
    (re.compile(r"^Not a valid UUID\.$"), "应为 UUID。"),
    (re.compile(r"^Not a valid datetime\.$"), "应为带时区的 RFC 3339 时间。"),
    (re.compile(r"^Not a valid aware datetime\.$"), "时间必须带时区。"),
    (re.compile(r"^Not a valid date\.$"), "应为日期（年-月-日）。"),
    (re.compile(r"^Not a valid list\.$"), "应为列表。"),
    (re.compile(r"^Not a valid mapping type\.$"), "应为对象。"),
    (re.compile(r"^Invalid input type\.$"), "类型不正确。"),
    (re.compile(r"^Invalid input\.$"), "内容不正确。"),
    (re.compile(r"^Must be one of: (.*)\.$"), r"必须是以下之一：\1。"),
    (re.compile(r"^Shorter than minimum length (\d+)\.$"), r"长度不能少于 \1。"),
    (re.compile(r"^Longer than maximum length (\d+)\.$"), r"长度不能超过 \1。"),
    (re.compile(r"^Length must be between (\d+) and (\d+)\.$"), r"长度须在 \1 到 \2 之间。"),
    (
        re.compile(r"^Must be greater than or equal to (\S+) and less than or equal to (\S+)\.$"),
        r"须在 \1 到 \2 之间。",
    ),
    (re.compile(r"^Must be greater than or equal to (\S+)\.$"), r"不能小于 \1。"),
    (re.compile(r"^Must be less than or equal to (\S+)\.$"), r"不能大于 \1。"),
    (re.compile(r"^String does not match expected pattern\.$"), "格式不正确。"),
    (re.compile(r"^Unknown code: (.*)\.$"), r"未知代码：\1。"),
    (re.compile(r"^Must not repeat the primary town\.$"), "不能包含主办乡镇。"),
    (re.compile(r"^Codes must not repeat\.$"), "代码不能重复。"),
    (re.compile(r"^Must not repeat\.$"), "不能重复。"),
    (
        re.compile(r"^Unknown member\.$"),
        "名册中没有这位党员（或不属于你能看到的乡镇），请同步后重新选择。",
    ),
    (re.compile(r"^At least one field must change\.$"), "至少需要修改一个字段。"),
    (re.compile(r"^Ahead of the server's version (\d+)\.$"), r"超出服务器当前版本 \1。"),
    (re.compile(r"^Not a valid SHA-256 hex digest\.$"), "应为 SHA-256 十六进制摘要。"),
    (re.compile(r"^Cannot be changed here\.$"), "此处不能修改该字段。"),
    (re.compile(r"^Must not contain NUL characters\.$"), "不能包含空字符（NUL）。"),
    (re.compile(r"^Required with lat, lon and accuracy_m\.$"), "位置须同时给出纬度、经度和精度。"),
    (
        re.compile(r"^Only with a position \(lat, lon, accuracy_m\)\.$"),
        "没有位置时不能给出定位时间。",
    ),
    (
        re.compile(r"^Contains half of a character \(a lone surrogate\)\.$"),
        "含有残缺的字符（如被截断的表情符号），请删去后重试。",
    ),
]


def pick_language(accept_language: str | None) -> str:
    """Chinese unless the caller prefers English."""
    if not accept_language:
        return DEFAULT_LANGUAGE
    for part in accept_language.split(","):
        tag = part.split(";")[0].strip().lower()
        if tag.startswith("en"):
            return "en"
        if tag.startswith("zh"):
            return "zh-CN"
    return DEFAULT_LANGUAGE


def error_message(code: str, language: str, *, wait: int | None = None) -> str:
    """The code's message; with `wait` (seconds), its ".wait" form saying how long, if any."""
    if wait is not None and f"{code}.wait" in ERROR_MESSAGES:
        zh, en = ERROR_MESSAGES[f"{code}.wait"]
        text = en if language == "en" else zh
        return text.format(wait=wait_in_words(wait, language))
    zh, en = ERROR_MESSAGES.get(code, ERROR_MESSAGES["bad_request"])
    return en if language == "en" else zh


def wait_in_words(seconds: int, language: str) -> str:
    """A wait as people say it: "8 秒", "8 seconds"; from two minutes on, whole minutes
    ("15 分钟", "15 minutes"), rounded up so that nobody comes back too early."""
    if seconds >= 120:
        minutes = -(-seconds // 60)
        return f"{minutes} 分钟" if language != "en" else f"{minutes} minutes"
    if language != "en":
        return f"{seconds} 秒"
    return f"{seconds} second" + ("" if seconds == 1 else "s")


def translate_reason(reason: str, language: str) -> str:
    if language == "en":
        return reason
    for pattern, replacement in _REASONS_ZH:
        if pattern.match(reason):
            return pattern.sub(replacement, reason)
    return reason


def translate_details(details: object, language: str) -> object:
    """Translate the reasons inside a {"field": ["reason", ...]} mapping."""
    if isinstance(details, dict):
        return {key: translate_details(value, language) for key, value in details.items()}
    if isinstance(details, list):
        return [translate_details(item, language) for item in details]
    if isinstance(details, str):
        return translate_reason(details, language)
    return details

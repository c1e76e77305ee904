"""Demo data for the five towns: reference data, a red-heritage route, users and a few cases.

Coordinates are approximate town centres (DOMAIN.md) and sites near them: demo only,
correct them before real use.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from server.accounts.users import add_user
from server.extensions import db
from server.models import Case, Category, Device, FeedEntry, Member, Route, Site, Town, User
from server.models.base import utcnow
from server.roster import add_member, town_bits
from server.schemas.checkins import RouteDataSchema, SiteDataSchema
from server.schemas.towns import CategoryDataSchema, TownDataSchema
from server.sync.context import RefData, caller_for
from server.sync.feed import Author, FeedWriter, publish_reference
from server.sync.push import push
from server.sync.unit_of_work import feed_write_unit

TOWNS = [
    # code, abbr, name, name_en, county, city, lat, lon
    ("dayan", "DY", "大堰镇", "Dayan", "奉化区", "宁波", 29.48, 121.17),
    ("shenzhen", "SZ", "深甽镇", "Shenzhen", "宁海县", "宁波", 29.36, 121.27),
    ("xidian", "XD", "西店镇", "Xidian", "宁海县", "宁波", 29.45, 121.43),
    ("shiliang", "SL", "石梁镇", "Shiliang", "天台县", "台州", 29.24, 121.07),
    ("xiaojiang", "XJ", "小将镇", "Xiaojiang", "新昌县", "绍兴", 29.43, 121.05),
]
CATEGORIES = [
    ("land", "山林土地权属", "Land and boundary"),
    ("water", "水利用水", "Water"),
    ("roads", "道路通行", "Roads and access"),
    ("labour", "劳资", "Labour and wages"),
    ("neighbours", "邻里", "Neighbours"),
    ("family", "婚姻家庭", "Family"),
    ("environment", "环境污染", "Environment"),
    ("other", "其他", "Other"),
]
SITES = [
    # code, name, town, village, lat, lon, radius_m, description
    (
        "dayan_alliance_hall",
        "全域锋领党建联盟签约地",
        "dayan",
        "大堰村",
        29.4812,
        121.1703,
        150,
        "2021年7月三市五地党建联盟在大堰镇签约（演示坐标）",
    ),
    (
        "zhekeng_daicun",
        "柘坑戴村党性教育基地",
        "shenzhen",
        "柘坑戴村",
        29.3655,
        121.2731,
        200,
        "党史学习教育示范点，开设党性教育课程（演示坐标）",
    ),
    (
        "xidian_red_station",
        "西店镇红色资源点",
        "xidian",
        "西店村",
        29.4508,
        121.4302,
        150,
        "浙东红脉沿线红色资源（演示坐标）",
    ),
    (
        "shiliang_red_station",
        "石梁镇红色资源点",
        "shiliang",
        "石梁村",
        29.2411,
        121.0712,
        150,
        "浙东红脉沿线红色资源（演示坐标）",
    ),
    (
        "xiaojiang_zhongxikou",
        "中溪口村党建联建点",
        "xiaojiang",
        "中溪口村",
        29.4312,
        121.0508,
        150,
        "小将镇中溪口村与宁波企业协作开展来料加工，村民在家门口就业（演示坐标）",
    ),
]
# A small roster per town (党员名册): branches by village; names made up for the demo.
ROSTER_VILLAGES = {
    "dayan": ("大堰村", "箭岭村", "常照村"),
    "shenzhen": ("柘坑戴村", "龙宫村", "深甽村"),
    "xidian": ("西店村", "崔家村", "香岩村"),
    "shiliang": ("石梁村", "街头村", "铜溪村"),
    "xiaojiang": ("中溪口村", "小将村", "大市聚村"),
}
ROSTER_SURNAMES = "王李张陈刘杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许"
ROSTER_GIVEN = (
    "建国", "秀英", "志强", "丽华", "国平", "海燕", "永林", "桂芳", "伟民", "春梅",
    "德明", "玉兰", "金水", "小红", "卫东", "彩霞", "红军", "美娟", "立新", "素珍",
)  # fmt: skip
ROSTER_SIZE = 15
# Every town has at least one site on the route: the alliance's route is walked across towns.
ROUTE = ("zhedong_red_vein", "浙东红脉·党史学习教育示范点精品环线")
SEED_DEVICE_ID = "00000000-0000-4000-8000-000000000001"


def seed(password: str, *, with_cases: bool = True) -> str:
    """Add what is missing; running it again changes nothing."""
    with feed_write_unit(db.session) as unit:
        writer = unit.writer
        added = {"towns": seed_towns(writer), "categories": seed_categories(writer)}
        added["sites"] = seed_sites(writer)
        added["users"] = seed_users(writer, password)
        added["members"] = seed_members(writer)
    added["cases"] = seed_cases() if with_cases else 0
    return "demo data added: " + ", ".join(f"{n} {what}" for what, n in added.items())


def seed_towns(writer: FeedWriter) -> int:
    existing = set(db.session.scalars(select(Town.code)).all())
    count = 0
    for bit, (code, abbr, name, name_en, county, city, lat, lon) in enumerate(TOWNS):
        if code in existing:
            continue
        town = Town(
            code=code,
            abbr=abbr,
            name=name,
            name_en=name_en,
            county=county,
            city=city,
            lat=lat,
            lon=lon,
            bit=bit,
        )
        db.session.add(town)
        db.session.flush()
        publish_reference(writer, "town", town.id, TownDataSchema().dump(town), is_new=True)
        count += 1
    return count


def seed_categories(writer: FeedWriter) -> int:
    existing = set(db.session.scalars(select(Category.code)).all())
    count = 0
    for position, (code, name, name_en) in enumerate(CATEGORIES):
        if code in existing:
            continue
        category = Category(code=code, name=name, name_en=name_en, position=position)
        db.session.add(category)
        db.session.flush()
        publish_reference(
            writer, "category", category.id, CategoryDataSchema().dump(category), is_new=True
        )
        count += 1
    return count


def seed_sites(writer: FeedWriter) -> int:
    existing = set(db.session.scalars(select(Site.code)).all())
    count = 0
    for code, name, town, village, lat, lon, radius, description in SITES:
        if code in existing:
            continue
        site = Site(
            code=code,
            name=name,
            town_code=town,
            village=village,
            lat=lat,
            lon=lon,
            radius_m=radius,
            description=description,
        )
        db.session.add(site)
        db.session.flush()
        publish_reference(writer, "site", site.id, SiteDataSchema().dump(site), is_new=True)
        count += 1
    order = {code: i for i, (code, *_rest) in enumerate(SITES)}
    route = db.session.scalar(select(Route).where(Route.code == ROUTE[0]))
    if route is None:
        sites = sorted(db.session.scalars(select(Site)).all(), key=lambda s: order.get(s.code, 99))
        route = Route(code=ROUTE[0], name=ROUTE[1], site_ids=[s.id for s in sites])
        db.session.add(route)
        db.session.flush()
        publish_reference(writer, "route", route.id, RouteDataSchema().dump(route), is_new=True)
        return count
    # A route seeded before a demo site existed gains it at its end, with the next version.
    demo_ids = db.session.scalars(select(Site.id).where(Site.code.in_(list(order)))).all()
    missing = [sid for sid in demo_ids if sid not in route.site_ids]
    if missing:
        route.site_ids = [*route.site_ids, *missing]
        db.session.flush()
        version = db.session.scalar(
            select(func.max(FeedEntry.version)).where(
                FeedEntry.entity == "route", FeedEntry.record_id == route.id
            )
        )
        publish_reference(
            writer,
            "route",
            route.id,
            RouteDataSchema().dump(route),
            is_new=version is None,
            version=(version or 0) + 1,
        )
    return count


def demo_roster(town_index: int, town: str) -> list[dict[str, str]]:
    """ROSTER_SIZE members of one town, five per village, no name twice in a town."""
    villages = ROSTER_VILLAGES.get(town, ("",))
    members = []
    for n in range(ROSTER_SIZE):
        surname = ROSTER_SURNAMES[(town_index * 7 + n * 3) % len(ROSTER_SURNAMES)]
        given = ROSTER_GIVEN[(town_index * 5 + n) % len(ROSTER_GIVEN)]
        village = villages[n % len(villages)]
        branch = f"{village}党支部" if village else "机关党支部"
        members.append(
            {"town": town, "name": surname + given, "branch": branch, "village": village}
        )
    return members


def seed_members(writer: FeedWriter) -> int:
    """A roster for each town that has none yet, published to that town's phones only."""
    with_roster = set(db.session.scalars(select(Member.town).distinct()))
    bits = town_bits(db.session)
    count = 0
    for index, (code, *_rest) in enumerate(TOWNS):
        if code in with_roster or code not in bits:
            continue
        for fields in demo_roster(index, code):
            add_member(db.session, writer, fields, author=Author(None), bits=bits)
            count += 1
    return count


def demo_users() -> list[tuple[str, str, str | None, str]]:
    users = [
        ("admin", "admin", None, "联盟管理员"),
        ("integration", "integration", None, "县平台同步"),
    ]
    for code, _abbr, name, *_rest in TOWNS:
        users.append((f"{code}_supervisor", "supervisor", code, f"{name}管理员"))
        users.append((f"{code}_worker", "worker", code, f"{name}网格员"))
    return users


def seed_users(writer: FeedWriter, password: str) -> int:
    existing = set(db.session.scalars(select(User.username)).all())
    count = 0
    for username, role, town, display_name in demo_users():
        if username not in existing:
            add_user(writer, username, password, role, town, display_name)
            count += 1
    return count


def seed_cases() -> int:
    """A few cases per town, written through the same push path a phone uses."""
    with feed_write_unit(db.session) as unit:
        if db.session.scalar(select(func.count()).select_from(Case)):
            unit.discard()
            return 0
        admin = db.session.scalar(select(User).where(User.username == "admin"))
        if db.session.get(Device, SEED_DEVICE_ID) is None:
            db.session.add(Device(id=SEED_DEVICE_ID, user_id=admin.id, name="demo seed"))
            db.session.flush()
        ref = RefData.load(db.session)
        caller = caller_for(admin, SEED_DEVICE_ID, ref)
        results = push(db.session, caller, ref, unit.writer, demo_case_mutations(), None)
    return sum(1 for r in results if r["status"] == "applied")


def demo_case_mutations() -> list[dict[str, Any]]:
    now = utcnow()
    samples = [
        ("dayan", ["shenzhen"], "land", "high", "两村山林交界处毛竹采伐权属争议", "李某", "王某"),
        ("shenzhen", [], "water", "medium", "灌溉水渠分水时段纠纷", "戴某", "陈某"),
        ("xidian", ["dayan"], "roads", "medium", "跨镇机耕路通行受阻", "张某", "周某"),
        (
            "shiliang",
            ["xiaojiang"],
            "environment",
            "high",
            "溪流上游养殖废水影响下游",
            "许某",
            "某养殖场",
        ),
        ("xiaojiang", [], "labour", "low", "藤器来料加工工钱结算纠纷", "张某", "某藤器企业"),
    ]
    mutations = []
    for i, (town, involved, category, severity, title, applicant, respondent) in enumerate(samples):
        mutations.append(
            {
                "mutation_id": str(uuid.uuid4()),
                "op": "case.create",
                "record_id": str(uuid.uuid4()),
                "client_time": (now - timedelta(days=i)).isoformat(),
                "data": {
                    "title": title,
                    "category": category,
                    "primary_town": town,
                    "involved_towns": involved,
                    "severity": severity,
                    "description": f"{title}（演示数据）",
                    "parties": [
                        {"name": applicant, "role": "applicant"},
                        {"name": respondent, "role": "respondent"},
                    ],
                },
            }
        )
    return mutations

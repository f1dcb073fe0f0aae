"""Names of a fictional county (青溪县): its second-level unions and its legal units."""

from __future__ import annotations

import random

COUNTY = "青溪县"
TAX_BUREAU = "国家税务总局青溪县税务局"

TOWNS = (
    "城关", "东山", "西河", "南湖", "北岭", "青石", "白沙", "桃源",
    "柳溪", "龙泉", "凤岗", "马坪", "石桥", "双河", "金塘",
)  # fmt: skip
COMMUNITIES = (
    "解放路", "人民路", "建设", "幸福", "和平", "新华", "朝阳", "文化", "滨江", "春晖",
    "东门", "西门", "南门", "北门", "锦绣", "花园", "育才", "长青", "振兴", "光明",
)  # fmt: skip
# Systems (系统工会): the first eight take mostly fiscal units; the rest also have
# enterprises (banks, the grid, the post, bus companies, builders, co-operatives).
SYSTEMS = (
    "教育", "卫生健康", "政法", "农业农村", "水利", "文化旅游", "民政", "人社",
    "市场监管", "自然资源", "林业", "税务", "交通运输", "住房城乡建设", "财贸",
    "金融", "电力", "邮政", "供销", "工业信息化",
)  # fmt: skip
PARK = "工业园区工会"

TOWN_UNIONS = tuple(f"{t}镇工会" for t in TOWNS)
COMMUNITY_UNIONS = tuple(f"{c}社区工会" for c in COMMUNITIES)
SYSTEM_UNIONS = tuple(f"{s}系统工会" for s in SYSTEMS)
FISCAL_SYSTEMS = SYSTEM_UNIONS[:12]
ENTERPRISE_SYSTEMS = SYSTEM_UNIONS[12:]
JURISDICTIONS = (*TOWN_UNIONS, *COMMUNITY_UNIONS, *SYSTEM_UNIONS, PARK)

_TRADE = (
    "宏达", "鑫源", "恒通", "华泰", "瑞丰", "金辉", "永盛", "天成", "博远", "信诚",
    "盛世", "隆鑫", "嘉禾", "中恒", "富民", "兴旺", "德润", "安泰", "明辉", "卓越",
    "新锐", "东方", "立信", "和顺", "丰源", "荣昌", "汇通", "长丰", "众诚", "佳美",
    "鸿运", "益民", "顺发", "广源", "润泽", "聚福", "同心", "远航", "开元", "致远",
    "清源", "溪源", "绿野", "山水", "碧云", "银河", "华美", "诚信", "利民", "福瑞",
    "正大", "大成", "三和", "万通", "宝丰", "旺达", "金鼎", "昌盛", "腾飞", "恒昌",
)  # fmt: skip
_INDUSTRY = (
    "机械制造", "电子科技", "建筑工程", "商贸", "食品", "纺织", "服装", "物流", "餐饮管理",
    "农业开发", "物业管理", "房地产开发", "汽车销售服务", "新材料", "塑胶制品", "五金制品",
    "木业", "化工", "医药连锁", "家具", "印刷", "包装", "水泥制品", "茶业", "竹木制品", "光电",
    "信息技术", "劳务派遣", "旅游开发", "超市", "酒店管理", "广告传媒", "环保科技", "精密铸造",
    "米业", "粮油", "养殖", "果业", "陶瓷", "矿业",
)  # fmt: skip
TRADE, INDUSTRY = _TRADE, _INDUSTRY  # for the benchmark's vectorized names
_SUFFIXES = ("有限公司", "有限责任公司", "股份有限公司", "厂")
_SUFFIX_WEIGHTS = (70, 16, 5, 9)
# Fiscal units by system union: (county-level names, town-level names), for organs
# (党政机关) and public institutions (事业单位). Names of other jurisdictions draw from all.
_ORGANS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "教育": (("教育体育局",), ()),
    "卫生健康": (("卫生健康委员会", "医疗保障局"), ()),
    "政法": (
        ("公安局", "司法局", "人民法院", "人民检察院", "委政法委员会"),
        ("派出所", "司法所", "人民法庭"),
    ),
    "农业农村": (("农业农村局", "乡村振兴局"), ()),
    "水利": (("水利局",), ()),
    "文化旅游": (("文化广电旅游局",), ()),
    "民政": (("民政局", "退役军人事务局"), ()),
    "人社": (("人力资源和社会保障局",), ()),
    "市场监管": (("市场监督管理局",), ("市场监督管理所",)),
    "自然资源": (("自然资源局",), ("自然资源所",)),
    "林业": (("林业局",), ("林业站",)),
    "税务": ((), ("税务分局",)),
    "": (
        (
            "人民政府办公室",
            "发展和改革局",
            "财政局",
            "住房和城乡建设局",
            "交通运输局",
            "商务局",
            "应急管理局",
            "审计局",
            "统计局",
            "信访局",
            "委办公室",
            "委组织部",
            "委宣传部",
            "委统战部",
            "纪委监委",
            "人大常委会办公室",
            "政协办公室",
            "妇女联合会",
            "科学技术协会",
            "残疾人联合会",
            "机关事务管理局",
            "档案局",
        ),
        ("人民政府办公室",),
    ),
}
_INSTITUTIONS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "教育": (
        (
            "第一中学",
            "第二中学",
            "第三中学",
            "实验小学",
            "实验中学",
            "第一幼儿园",
            "第二幼儿园",
            "职业中等专业学校",
            "特殊教育学校",
            "教师发展中心",
        ),
        ("中心小学", "中学", "中心幼儿园", "第二小学"),
    ),
    "卫生健康": (
        ("人民医院", "中医院", "妇幼保健院", "疾病预防控制中心", "精神病医院", "急救中心"),
        ("卫生院", "中心卫生院"),
    ),
    "政法": (("公证处", "法律援助中心", "司法鉴定中心"), ("法律服务所",)),
    "农业农村": (
        ("农业技术推广中心", "畜牧水产服务中心", "农村经营服务中心"),
        ("农业综合服务中心", "畜牧兽医站"),
    ),
    "水利": (("水文站", "水库管理中心", "水土保持站"), ("水利站", "水管所")),
    "文化旅游": (("图书馆", "文化馆", "博物馆", "融媒体中心"), ("综合文化站",)),
    "民政": (("社会福利院", "救助管理站", "殡仪馆"), ("敬老院", "社会事务服务中心")),
    "人社": (("就业服务中心", "社会保险服务中心", "劳动人事争议仲裁院"), ("劳动保障事务所",)),
    "市场监管": (("检验检测中心", "消费者权益保护中心"), ("市场监管服务站",)),
    "自然资源": (("不动产登记中心", "土地储备中心", "测绘院"), ("自然资源服务站",)),
    "林业": (("林业科学研究所", "森林资源监测站"), ("林业工作站",)),
    "税务": (("纳税服务中心",), ()),
}
_INSTITUTIONS[""] = (
    tuple(n for county, _ in _INSTITUTIONS.values() for n in county),
    tuple(n for _, town in _INSTITUTIONS.values() for n in town),
)


def _fiscal_name(
    rng: random.Random,
    pools: dict[str, tuple[tuple[str, ...], tuple[str, ...]]],
    jurisdiction: str,
    town: str,
) -> str:
    county_level, town_level = pools.get(jurisdiction.removesuffix("系统工会"), pools[""])
    # Towns hold most of the county's schools, clinics and stations.
    if town_level and (not county_level or rng.random() < 0.6):
        return f"{COUNTY}{town}{rng.choice(town_level)}"
    return f"{COUNTY}{rng.choice(county_level)}"


_ENTERPRISE_INSTITUTIONS = (
    "建筑设计院", "勘察测绘院", "城市建设投资中心", "水库管理处", "机关招待所",
    "广播电视网络中心", "公路养护中心", "汽车客运站", "国有林场", "农机服务中心",
    "粮食储备库", "市政工程处", "检验检测中心", "种子站", "园林绿化管理所",
)  # fmt: skip
_TOWN_ENTERPRISE_INSTITUTIONS = (
    "水利管理站", "林业工作站", "供水站", "农机管理站", "水库管理所", "市政管理所", "招待所",
)  # fmt: skip
_VILLAGES = (
    "石门", "河口", "新塘", "大坪", "上坊", "下湾", "杨家", "李家", "王家", "高桥",
    "长岭", "枫树", "竹园", "梅林", "松山", "桂花", "龙井", "凤凰", "荷塘", "水口",
)  # fmt: skip


def _suffix(rng: random.Random) -> str:
    return rng.choices(_SUFFIXES, _SUFFIX_WEIGHTS)[0]


# Enterprises of the enterprise-heavy system unions: their trades, or their own names.
_SYSTEM_INDUSTRIES = {
    "交通运输": ("物流", "汽车客运", "公共交通", "汽车销售服务"),
    "住房城乡建设": ("建筑工程", "房地产开发", "物业管理", "水泥制品"),
    "财贸": ("商贸", "超市", "酒店管理", "餐饮管理", "医药连锁"),
    "工业信息化": ("机械制造", "电子科技", "新材料", "精密铸造", "光电", "信息技术"),
    "供销": ("农资", "商贸", "粮油", "再生资源"),
}
_BANKS = ("中国工商银行", "中国农业银行", "中国银行", "中国建设银行", "中国邮政储蓄银行")
_INSURERS = ("中国人民财产保险", "中国人寿保险", "中国太平洋财产保险")


def _system_enterprise(rng: random.Random, system: str, town: str) -> str | None:
    """A name typical of an enterprise in `system` (None: an ordinary company)."""
    match system:
        case "金融":
            return rng.choice(
                (
                    f"{rng.choice(_BANKS)}股份有限公司{COUNTY}支行",
                    f"{rng.choice(_BANKS)}股份有限公司{COUNTY}{town}支行",
                    f"{COUNTY}农村商业银行股份有限公司{town}支行",
                    f"{rng.choice(_INSURERS)}股份有限公司{COUNTY}支公司",
                )
            )
        case "电力":
            return f"国网{COUNTY}供电公司{town}供电所"
        case "邮政":
            return f"中国邮政集团有限公司{COUNTY}{town}邮政支局"
    return None


def _enterprise(rng: random.Random, prefix2: str, place: str, jurisdiction: str) -> str:
    system = jurisdiction.removesuffix("系统工会")
    town = place if place.endswith("镇") else rng.choice(TOWNS) + "镇"
    if prefix2 == "91" and (special := _system_enterprise(rng, system, town)):
        return special
    trade = rng.choice(_TRADE)
    industry = rng.choice(_SYSTEM_INDUSTRIES.get(system, _INDUSTRY))
    if prefix2 == "92":  # 个体工商户
        return f"{COUNTY}{place}{trade}{industry}经营部"
    if prefix2 == "93":
        return f"{COUNTY}{trade}{industry}专业合作社"
    lead = rng.choice((COUNTY, "青溪", ""))
    return f"{lead}{trade}{industry}{_suffix(rng)}"


def _place_of(jurisdiction: str) -> str:
    for end in ("镇工会", "社区工会"):
        if jurisdiction.endswith(end):
            return jurisdiction.removesuffix("工会")
    return ""


def candidate_name(rng: random.Random, unit_type: str, prefix2: str, jurisdiction: str) -> str:
    """One plausible name for a unit; the caller retries on collisions."""
    place = _place_of(jurisdiction)
    town = place if place.endswith("镇") else rng.choice(TOWNS) + "镇"
    match unit_type:
        case "government_organ":
            if jurisdiction == PARK:
                return f"{COUNTY}工业园区管理委员会"
            if jurisdiction.endswith("镇工会"):
                return f"{COUNTY}{town}人民政府"
            if jurisdiction == "税务系统工会":
                return f"{TAX_BUREAU}{town}税务分局"
            return _fiscal_name(rng, _ORGANS, jurisdiction, town)
        case "public_institution":
            return _fiscal_name(rng, _INSTITUTIONS, jurisdiction, town)
        case "enterprise_institution":
            if rng.random() < 0.4:
                return f"{COUNTY}{rng.choice(_ENTERPRISE_INSTITUTIONS)}"
            return f"{COUNTY}{town}{rng.choice(_TOWN_ENTERPRISE_INSTITUTIONS)}"
        case "social_org":
            if prefix2 == "52":
                kind = rng.choice(("培训学校", "养老服务中心", "幼儿园", "社会工作服务中心"))
                return f"{COUNTY}{rng.choice(_TRADE)}{kind}"
            if prefix2 == "53":
                return f"{COUNTY}{rng.choice(_TRADE)}公益基金会"
            kind = rng.choice(("协会", "商会", "促进会", "研究会"))
            return f"{COUNTY}{place or rng.choice(_INDUSTRY)}{kind}"
        case "other":
            if prefix2 == "N3":
                return f"{COUNTY}{town}集体资产经营管理中心"
            if prefix2 == "Y1":
                return f"{COUNTY}{rng.choice(_TRADE)}律师事务所"
            return f"{COUNTY}{town}{rng.choice(_VILLAGES)}村股份经济合作社"
        case _:
            return _enterprise(rng, prefix2, place, jurisdiction)


def try_name(
    rng: random.Random, taken: set[str], unit_type: str, prefix2: str, jurisdiction: str
) -> str | None:
    """A name fitting the jurisdiction that is not in `taken` (then added), or None."""
    for _ in range(20):
        name = candidate_name(rng, unit_type, prefix2, jurisdiction)
        if name not in taken:
            taken.add(name)
            return name
    return None


def unique_name(
    rng: random.Random, taken: set[str], unit_type: str, prefix2: str, jurisdiction: str
) -> str:
    """Like `try_name`, then with the place chosen freely, then as a numbered branch
    (real registries have those too)."""
    name = try_name(rng, taken, unit_type, prefix2, jurisdiction)
    name = name or try_name(rng, taken, unit_type, prefix2, "")
    if name is not None:
        return name
    base = candidate_name(rng, unit_type, prefix2, jurisdiction)
    branch = 2
    while f"{base}（{branch}）" in taken:
        branch += 1
    taken.add(f"{base}（{branch}）")
    return f"{base}（{branch}）"


def outsider_name(rng: random.Random) -> str:
    """A taxpayer missing from the registry: a branch of a company from another county."""
    return f"{rng.choice(_TRADE)}{rng.choice(_INDUSTRY)}有限公司{COUNTY}分公司"

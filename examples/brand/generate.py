#!/usr/bin/env python3
"""Writes the reference brand's configuration: HQ, catalogue, 32 regional
centers with their plugin sets, and sample orders. Re-run after editing;
the output is committed so a reader sees plain TOML and JSON."""

import json
import os
import random
from datetime import datetime, timezone, timedelta

HERE = os.path.dirname(os.path.abspath(__file__))
CST = timezone(timedelta(hours=8))


def ms(*args):
    return int(datetime(*args, tzinfo=CST).timestamp() * 1000)


# id, name, neighbours in order of preference
REGIONS = [
    ("bj", "Beijing", ["tj", "he", "nm"]),
    ("tj", "Tianjin", ["bj", "he", "sd"]),
    ("he", "Hebei", ["bj", "tj", "sd", "sx", "ha", "nm", "ln"]),
    ("sx", "Shanxi", ["he", "ha", "sn", "nm"]),
    ("nm", "Inner Mongolia", ["bj", "he", "sx", "ln", "jl", "hl", "nx", "gs", "sn"]),
    ("ln", "Liaoning", ["jl", "he", "nm"]),
    ("jl", "Jilin", ["ln", "hl", "nm"]),
    ("hl", "Heilongjiang", ["jl", "nm"]),
    ("sh", "Shanghai", ["js", "zj"]),
    ("js", "Jiangsu", ["sh", "zj", "ah", "sd"]),
    ("zj", "Zhejiang", ["sh", "js", "ah", "jx", "fj"]),
    ("ah", "Anhui", ["js", "zj", "ha", "hb", "jx", "sd"]),
    ("fj", "Fujian", ["zj", "gd", "jx"]),
    ("jx", "Jiangxi", ["zj", "ah", "fj", "hb", "hn", "gd"]),
    ("sd", "Shandong", ["js", "he", "ha", "ah", "tj"]),
    ("ha", "Henan", ["hb", "ah", "sd", "he", "sx", "sn"]),
    ("hb", "Hubei", ["ha", "hn", "ah", "jx", "cq", "sn"]),
    ("hn", "Hunan", ["hb", "gd", "jx", "gx", "gz", "cq"]),
    ("gd", "Guangdong", ["sz", "gx", "fj", "hn", "jx", "hi"]),
    ("sz", "Shenzhen", ["gd", "gx", "fj"]),
    ("gx", "Guangxi", ["gd", "hn", "gz", "yn", "hi"]),
    ("hi", "Hainan", ["gd", "gx"]),
    ("cq", "Chongqing", ["sc", "hb", "hn", "gz", "sn"]),
    ("sc", "Sichuan", ["cq", "gz", "yn", "sn", "gs", "qh", "xz"]),
    ("gz", "Guizhou", ["cq", "sc", "hn", "gx", "yn"]),
    ("yn", "Yunnan", ["gz", "sc", "gx", "xz"]),
    ("xz", "Tibet", ["sc", "yn", "qh", "xj"]),
    ("sn", "Shaanxi", ["sx", "ha", "hb", "cq", "sc", "gs", "nx", "nm"]),
    ("gs", "Gansu", ["sn", "nx", "qh", "sc", "nm", "xj"]),
    ("qh", "Qinghai", ["gs", "sc", "xz", "xj"]),
    ("nx", "Ningxia", ["gs", "sn", "nm"]),
    ("xj", "Xinjiang", ["gs", "qh", "xz"]),
]

NORTH = {"bj", "tj", "he", "sx", "nm", "ln", "jl", "hl"}
SOUTH = {"gd", "sz", "gx", "hi", "fj"}

# sku, name, category, bottles per case, base price per case (fen), new, restricted
PRODUCTS = []
for i, (name, strength, price) in enumerate([
    ("Classic 52°", 52, 118_800), ("Classic 42°", 42, 88_800), ("Reserve 53°", 53, 358_800),
    ("Reserve 45°", 45, 238_800), ("Heritage 53°", 53, 598_800), ("Banquet 52°", 52, 168_800),
    ("Banquet 38°", 38, 98_800), ("Harvest 50°", 50, 128_800), ("Harvest 42°", 42, 78_800),
    ("Jubilee 56°", 56, 458_800), ("Northern Fire 60°", 60, 138_800), ("Northern Fire 56°", 56, 118_800),
    ("Family 45°", 45, 58_800), ("Family 38°", 38, 48_800), ("Zodiac 53°", 53, 888_800),
    ("Gift Box 52°", 52, 288_800), ("Gift Box 42°", 42, 198_800), ("Dragon Boat 52°", 52, 158_800),
    ("Mid-Autumn 53°", 53, 268_800), ("Spring Festival 52°", 52, 318_800),
]):
    PRODUCTS.append((f"BJ-{i + 1:03}", name, "baijiu", 6, price, i >= 17, []))
for i, (name, price) in enumerate([
    ("Cabernet 2021", 95_800), ("Merlot 2022", 78_800), ("Chardonnay 2023", 68_800),
    ("Reserve Red 2019", 198_800), ("Ice Wine 2022", 258_800), ("Rosé 2024", 58_800),
    ("Sparkling Brut", 88_800), ("Dry Riesling 2023", 72_800), ("Grand Cru 2018", 588_800),
    ("Table Red", 38_800), ("Table White", 36_800), ("Syrah 2021", 92_800),
]):
    PRODUCTS.append((f"WN-{i + 1:03}", name, "wine", 6, price, i == 11, []))
for i, (name, price) in enumerate([
    ("Plum Wine 12°", 42_800), ("Lychee Wine 10°", 39_800), ("Osmanthus 15°", 45_800),
    ("Yellow Wine 14°", 36_800), ("Rice Wine 8°", 28_800), ("Peach Blossom 12°", 41_800),
    ("Green Plum 9°", 33_800), ("Honey Mead 11°", 48_800), ("Citrus Spritz 5°", 24_800),
    ("Jasmine 10°", 38_800), ("Bayberry 12°", 43_800), ("Ginger 18°", 52_800),
]):
    PRODUCTS.append((f"LA-{i + 1:03}", name, "low-alcohol", 12, price, i >= 10, []))
# Regional exclusives: goods reserved for one region (防窜货).
PRODUCTS.append(("RX-001", "Lingnan Exclusive 35°", "low-alcohol", 12, 56_800, False, ["gd", "sz"]))
PRODUCTS.append(("RX-002", "Black Soil Exclusive 60°", "baijiu", 6, 148_800, False, ["hl", "jl", "ln"]))
PRODUCTS.append(("RX-003", "Bashu Exclusive 52°", "baijiu", 6, 208_800, False, ["sc", "cq"]))
PRODUCTS.append(("RX-004", "Jiangnan Exclusive 42°", "baijiu", 6, 178_800, True, ["sh", "js", "zj"]))
PRODUCTS.append(("RX-005", "Plateau Exclusive 45°", "baijiu", 6, 128_800, False, ["xz", "qh"]))
PRODUCTS.append(("RX-006", "Silk Road Exclusive Red", "wine", 6, 118_800, False, ["xj", "gs", "nx"]))


def toml_str(value):
    return json.dumps(value, ensure_ascii=False)


def toml_list(values):
    return "[" + ", ".join(toml_str(v) for v in values) + "]"


def write(path, text):
    full = os.path.join(HERE, path)
    os.makedirs(os.path.dirname(full), exist_ok=True)
    with open(full, "w", encoding="utf-8") as f:
        f.write(text)


def catalogue():
    out = ["# HQ's catalogue: one [[product]] per SKU. Prices are fen per case.\n"]
    for sku, name, category, pack, price, new, restricted in PRODUCTS:
        out.append("[[product]]")
        out.append(f"sku = {toml_str(sku)}")
        out.append(f"name = {toml_str(name)}")
        out.append(f"category = {toml_str(category)}")
        out.append(f"pack_size = {pack}")
        out.append(f"base_price = {price}")
        if new:
            out.append("new_product = true")
        if restricted:
            out.append(f"restricted_to_regions = {toml_list(restricted)}")
        out.append("")
    write("catalogue.toml", "\n".join(out))


HQ = """# HQ: guardrails no plugin can break, sandbox limits, and the default
# plugin set every region gets for the slots it does not set itself.

[hq]
name = "Example Spirits Co. HQ"
price_band_bp = 1000        # unit prices stay within base ±10%
max_discount_bp = 3000      # promotions take at most 30% of an order
max_free_goods_bp = 2500    # free goods worth at most 25% of an order

[limits]
fuel = 11000000             # instructions per plugin call
memory_bytes = 16777216     # 16 MiB
deadline_ms = 50

[breaker]
consecutive_faults = 5      # quarantine a plugin version after 5 faults in a row
cooldown_ms = 30000

# Stock alerts, scanned per region × SKU over the regional warehouses. Every
# key is optional; these are the defaults (the reference customer's figures).
[alerts]
safety_stock_bp = 3000          # available below 30% of target
slow_moving_days = 60           # more than 60 days of cover
shortfall_transfer_bp = 2000    # short of target by more than 20%: draft a transfer for HQ
scan_interval_ms = 60000        # scan every minute

[defaults.anti_diversion]
plugin = "builtin:anti-diversion"
[defaults.anti_diversion.config]
abnormal_quantity_factor = 10   # "100 cases typed as 1000"

[defaults.pricing]
plugin = "builtin:pricing-tiered"
[defaults.pricing.config]
tier_discount_bp = { strategic = 600, core = 300, standard = 0 }
quantity_breaks = [
    { min_cases = 50, discount_bp = 100 },
    { min_cases = 200, discount_bp = 200 },
]

[defaults.sourcing]
plugin = "builtin:sourcing-region-first"
[defaults.sourcing.config]
max_neighbour_rank = 3
production_alert_threshold_bp = 3000

# When a region's sourcing plugin fails, HQ's own sourcing decides.
[fallback_sourcing]
plugin = "builtin:sourcing-region-first"
"""


def region_file(rid, name, neighbours):
    out = [f"# Regional marketing center: {name}.", "", "[region]",
           f"id = {toml_str(rid)}", f"name = {toml_str(name)}",
           f"neighbours = {toml_list(neighbours)}"]
    if rid in ("gd", "sz"):
        out += ["# The south pushes low-alcohol products: cheaper, and 8% off this quarter.",
                "price_adjustment_bp = 0",
                "[region.sku_adjustment_bp]"]
        out += [f"{toml_str(p[0])} = -500" for p in PRODUCTS if p[2] == "low-alcohol" and not p[6]]
        out += ["\"BJ-011\" = 300", "\"BJ-012\" = 300", "",
                "[[plugins.promotions]]", "id = \"south-low-alcohol\"", "plugin = \"builtin:promotions\"",
                "[[plugins.promotions.config.promotions]]",
                "id = \"low-alcohol-8pct\"", "name = \"低度酒 8% off\"", "categories = [\"low-alcohol\"]",
                f"starts_at = {ms(2026, 7, 1)}", f"ends_at = {ms(2026, 10, 1)}",
                "kind = { type = \"percent_off\", percent_bp = 800 }",
                "[[plugins.promotions.config.promotions]]",
                "id = \"spend-5k\"", "name = \"满5000减300\"",
                "kind = { type = \"spend_threshold\", threshold = 500000, off = 30000 }"]
    elif rid in ("hl", "jl", "ln"):
        out += ["# The north drinks strong spirits: buy 10 cases get 2 before Mid-Autumn.",
                "price_adjustment_bp = 200", "",
                "[[plugins.promotions]]", "id = \"mid-autumn\"", "plugin = \"builtin:promotions\"",
                "[[plugins.promotions.config.promotions]]",
                "id = \"mid-autumn-10-2\"", "name = \"中秋买十赠二\"", "group = \"mid-autumn\"",
                "categories = [\"baijiu\"]",
                f"starts_at = {ms(2026, 9, 1)}", f"ends_at = {ms(2026, 9, 26)}",
                "kind = { type = \"buy_n_get_m\", buy = 10, get = 2 }",
                "[[plugins.promotions.config.promotions]]",
                "id = \"mid-autumn-spend\"", "name = \"中秋每满万减800\"", "group = \"mid-autumn\"",
                f"starts_at = {ms(2026, 9, 1)}", f"ends_at = {ms(2026, 9, 26)}",
                "kind = { type = \"spend_threshold\", threshold = 1000000, off = 80000, repeat = true }",
                "",
                "[plugins.anti_diversion]", "plugin = \"builtin:anti-diversion\"",
                "[plugins.anti_diversion.config]", "abnormal_quantity_factor = 8", "max_line_cases = 400"]
    elif rid in ("sh", "js", "zj"):
        out += ["# Jiangnan: spend ≥ ¥10,000 take ¥800 off, and a 5% flash sale in October.",
                "price_adjustment_bp = 500", "",
                "[[plugins.promotions]]", "id = \"jiangnan\"", "plugin = \"builtin:promotions\"",
                "[[plugins.promotions.config.promotions]]",
                "id = \"spend-10k\"", "name = \"满10000减800\"",
                "kind = { type = \"spend_threshold\", threshold = 1000000, off = 80000 }",
                "[[plugins.promotions.config.promotions]]",
                "id = \"golden-week-5pct\"", "name = \"国庆限时95折\"",
                f"starts_at = {ms(2026, 10, 1)}", f"ends_at = {ms(2026, 10, 8)}",
                "kind = { type = \"percent_off\", percent_bp = 500 }",
                "",
                "[plugins.pricing]", "plugin = \"builtin:pricing-tiered\"",
                "[plugins.pricing.config]",
                "tier_discount_bp = { strategic = 800, core = 400, standard = 100 }",
                "quantity_breaks = [{ min_cases = 30, discount_bp = 150 }, { min_cases = 100, discount_bp = 300 }]"]
    elif rid in ("sc", "cq"):
        out += ["# Bashu: strategic dealers get the deepest tier discount; sourcing stays close.",
                "price_adjustment_bp = -300", "",
                "[plugins.sourcing]", "plugin = \"builtin:sourcing-region-first\"",
                "[plugins.sourcing.config]", "max_neighbour_rank = 1", "max_split = 2"]
    else:
        out += ["price_adjustment_bp = 0"]
    return "\n".join(out) + "\n"


def regions():
    for rid, name, neighbours in REGIONS:
        write(f"regions/{rid}.toml", region_file(rid, name, neighbours))


def warehouses_for(rid, stock):
    """The order's own regional warehouse, its neighbours' and HQ's."""
    neighbours = dict((r[0], r[2]) for r in REGIONS)[rid]
    out = [{"id": f"WH-{rid.upper()}-1", "region": rid, "level": "region", "available": stock(rid, 0)}]
    for rank, n in enumerate(neighbours[:3], start=1):
        out.append({"id": f"WH-{n.upper()}-1", "region": n, "level": "region", "available": stock(n, rank)})
    out.append({"id": "WH-HQ-1", "region": "hq", "level": "hq", "available": stock("hq", 9)})
    return out


# The dealer behind each region's sample orders; dataset/dealers.toml
# writes the same profiles so that orders and data set agree.
SAMPLE_DEALERS = {
    "gd": dict(name="Pearl River Spirits Trading", tier="core", cls="dealer"),
    "hl": dict(name="Harbin Black Soil Liquor Distribution", tier="core", cls="dealer"),
    "sh": dict(name="Bund Fine Wines & Spirits", tier="strategic", cls="dealer"),
    "bj": dict(name="Capital Great Wall Liquor Trading", tier="core", cls="dealer"),
    "sc": dict(name="Chengdu Bashu Spirits Supply", tier="core", cls="dealer", usual=50,
               credit=(900_000_000, 0)),
    "js": dict(name="Suzhou Taihu Hypermarket", tier="core", cls="key_account"),
}


def sample_dealer(rid):
    """The sample dealer of a region as the domain sees it (no name)."""
    profile = {"usual": 60, "credit": (50_000_000, 8_000_000), **SAMPLE_DEALERS[rid]}
    return {
        "id": f"D-{rid.upper()}-0001", "region": rid, "tier": profile["tier"], "class": profile["cls"],
        "territory": [rid], "credit_limit": profile["credit"][0],
        "outstanding_balance": profile["credit"][1], "usual_order_cases": profile["usual"],
    }


def order_context(rid, oid, lines, placed=ms(2026, 9, 15, 10), stock=None, urgency="normal",
                  ship_to=None):
    stock = stock or (lambda region, rank: {sku: 500 if rank == 0 else 300 for sku, _ in lines})
    return {
        "order": {
            "id": oid, "dealer_id": f"D-{rid.upper()}-0001", "region": rid,
            "ship_to": ship_to or rid, "order_type": "spot", "urgency": urgency, "placed_at": placed,
            "lines": [{"line_no": i + 1, "sku": sku, "quantity": q} for i, (sku, q) in enumerate(lines)],
        },
        "dealer": sample_dealer(rid),
        "warehouses": warehouses_for(rid, stock),
    }


TEN_LINES = [("BJ-001", 12), ("BJ-002", 20), ("BJ-006", 8), ("WN-001", 10), ("WN-002", 6),
             ("LA-001", 24), ("LA-004", 15), ("BJ-013", 30), ("WN-006", 5), ("LA-009", 40)]


def orders():
    def save(name, ctx):
        write(f"orders/{name}.json", json.dumps(ctx, ensure_ascii=False, indent=2) + "\n")

    # The same ten lines in two regions: different prices and promotions.
    save("gd-ten-lines", order_context("gd", "GD-2026-0915-001", TEN_LINES))
    save("hl-ten-lines", order_context("hl", "HL-2026-0915-001", TEN_LINES))
    # Northern buy-10-get-2 before Mid-Autumn.
    save("hl-mid-autumn", order_context("hl", "HL-2026-0915-002", [("BJ-011", 20), ("RX-002", 10)]))
    # Shanghai spend threshold, strategic dealer.
    save("sh-spend-threshold", order_context("sh", "SH-2026-0915-001", [("BJ-003", 4), ("WN-004", 3)]))
    # A regional exclusive ordered outside its region: rejected.
    save("bj-diverted-exclusive", order_context("bj", "BJ-2026-0915-001", [("RX-001", 5), ("BJ-001", 5)]))
    # "100 cases typed as 1000": held for review.
    save("sc-abnormal-quantity", order_context("sc", "SC-2026-0915-001", [("BJ-008", 1000)]))
    # Scarce stock: a key account's expedited order split across neighbours,
    # with a production alert for the new product.
    def scarce(region, rank):
        return {"BJ-018": 40 if rank == 0 else 30, "BJ-001": 100}
    save("js-scarce-new-product", order_context("js", "JS-2026-0915-001", [("BJ-018", 90), ("BJ-001", 10)],
                                                urgency="expedited", stock=scarce))


# ---------------------------------------------------------------------------
# dataset/: warehouses, dealers, stock and demo tokens. Seeded per record
# (random.Random("<what>/<id>")) so that editing one part leaves the others'
# numbers unchanged.

REGION_NAMES = {rid: name for rid, name, _ in REGIONS}
NEIGHBOURS = {rid: neighbours for rid, _, neighbours in REGIONS}

# Cities and landmarks per region: the first two name the regional DCs, all
# of them lend dealers their names.
PLACES = {
    "bj": ["Beijing", "Tongzhou", "Chaoyang", "Haidian", "Fengtai", "Great Wall"],
    "tj": ["Tianjin", "Binhai", "Haihe", "Wuqing", "Jinmen"],
    "he": ["Shijiazhuang", "Tangshan", "Baoding", "Handan", "Langfang", "Yanzhao"],
    "sx": ["Taiyuan", "Datong", "Fenhe", "Yuncheng", "Jinzhong"],
    "nm": ["Hohhot", "Baotou", "Ordos", "Grassland", "Hulunbuir"],
    "ln": ["Shenyang", "Dalian", "Anshan", "Liaohe", "Jinzhou"],
    "jl": ["Changchun", "Jilin City", "Songhua", "Yanbian", "Siping"],
    "hl": ["Harbin", "Daqing", "Qiqihar", "Black Soil", "Mudanjiang"],
    "sh": ["Shanghai", "Pudong", "Huangpu", "Bund", "Songjiang", "Jiading"],
    "js": ["Nanjing", "Suzhou", "Wuxi", "Yangzhou", "Changzhou", "Xuzhou", "Taihu"],
    "zj": ["Hangzhou", "Ningbo", "Wenzhou", "West Lake", "Shaoxing", "Jinhua"],
    "ah": ["Hefei", "Wuhu", "Huangshan", "Bengbu", "Anqing"],
    "fj": ["Fuzhou", "Xiamen", "Quanzhou", "Minjiang", "Wuyi"],
    "jx": ["Nanchang", "Ganzhou", "Jiujiang", "Poyang", "Jingdezhen"],
    "sd": ["Jinan", "Qingdao", "Yantai", "Taishan", "Weifang", "Linyi", "Qilu"],
    "ha": ["Zhengzhou", "Luoyang", "Kaifeng", "Central Plains", "Nanyang", "Xinxiang"],
    "hb": ["Wuhan", "Yichang", "Xiangyang", "Jianghan", "Jingzhou", "Three Gorges"],
    "hn": ["Changsha", "Hengyang", "Zhuzhou", "Xiangjiang", "Yueyang", "Furong"],
    "gd": ["Guangzhou", "Foshan", "Dongguan", "Lingnan", "Shantou", "Zhuhai", "Canton"],
    "sz": ["Shenzhen", "Longgang", "Nanshan", "Futian", "Bao'an", "Shekou"],
    "gx": ["Nanning", "Guilin", "Liuzhou", "Li River", "Beihai", "Wuzhou"],
    "hi": ["Haikou", "Sanya", "Qiongzhou", "Wanning"],
    "cq": ["Chongqing", "Wanzhou", "Jialing", "Yuzhong", "Fuling", "Mountain City"],
    "sc": ["Chengdu", "Mianyang", "Yibin", "Luzhou", "Leshan", "Bashu", "Min River"],
    "gz": ["Guiyang", "Zunyi", "Chishui", "Anshun", "Qianzhong"],
    "yn": ["Kunming", "Dali", "Dianchi", "Qujing", "Xishuangbanna", "Erhai"],
    "xz": ["Lhasa", "Shigatse", "Nyingchi", "Yarlung"],
    "sn": ["Xi'an", "Baoji", "Xianyang", "Qinling", "Yan'an", "Hanzhong"],
    "gs": ["Lanzhou", "Jiuquan", "Tianshui", "Hexi", "Dunhuang"],
    "qh": ["Xining", "Golmud", "Qinghai Lake", "Haidong"],
    "nx": ["Yinchuan", "Shizuishan", "Helan", "Zhongwei"],
    "xj": ["Urumqi", "Kashgar", "Tianshan", "Ili", "Turpan"],
}
BIG_MARKETS = {"gd", "js", "zj", "sd", "ha", "sc", "hb", "hn"}
SMALL_MARKETS = {"xz", "qh", "nx", "hi"}
COASTAL_WINE = {"bj", "sh", "js", "zj", "gd", "sz", "fj"}

# HQ's two warehouses: the national hub and the distillery's own DC.
HQ_WAREHOUSES = [("WH-HQ-1", "HQ national DC, Zhengzhou", "ha"),
                 ("WH-HQ-2", "HQ distillery DC, Yibin", "sc")]

NAME_WORDS = ["Golden Harvest", "Fortune", "Prosperity", "Harmony", "Jade", "Dragon Gate", "Phoenix",
              "Everbright", "Hengtong", "Ruifeng", "Yongsheng", "Jinding", "Fuyuan", "Hongtai",
              "Heshun", "Wanfu", "Changsheng", "Dafeng", "Tianyi", "Red Lantern", "Eastern Star",
              "Double Happiness", "Spring Breeze", "Five Grains", "Silver Moon", "Lucky Cloud",
              "Longxing", "Xinglong", "Baofeng", "Jiahe"]
NAME_SUFFIXES = {
    "dealer": ["Spirits Trading", "Liquor Distribution", "Wine & Spirits Supply", "Beverage Trading",
               "Liquor Wholesale", "Spirits Supply Chain", "Trading Co."],
    "key_account": ["Hypermarket", "Supermarket Chain", "Mart", "Department Store", "Fresh Market Chain"],
    "shop": ["Liquor Shop", "Tobacco & Liquor Store", "Wine Cellar", "Fine Spirits Boutique"],
    "restaurant": ["Restaurant", "Banquet Hall", "Seafood Restaurant", "Hotpot House", "Dining Group"],
}

# Region × SKU pairs that raise an alert on a fresh start (the service's
# tests rely on these; generate.py checks that no other pair does).
SAFETY_LOW = [("js", "BJ-018"), ("yn", "LA-002"), ("ln", "RX-002"), ("gx", "WN-006"), ("nm", "BJ-012")]
# Short by 30–45%, with the named neighbour holding 160–180% of its target,
# enough to cover the shortfall.
SHORT_WITH_NEIGHBOUR_SURPLUS = [("sz", "LA-003", "gd"), ("hb", "BJ-019", "hn"), ("fj", "WN-001", "zj"),
                                ("nx", "RX-006", "gs"), ("tj", "BJ-002", "bj")]
SHORT = {(rid, sku) for rid, sku, _ in SHORT_WITH_NEIGHBOUR_SURPLUS}
SURPLUS = {(neighbour, sku) for _, sku, neighbour in SHORT_WITH_NEIGHBOUR_SURPLUS}
SLOW_MOVING = [("xj", "WN-009"), ("hi", "BJ-011"), ("sz", "BJ-015"), ("qh", "WN-005"), ("jx", "LA-008")]

SAFETY_STOCK_RATIO = 0.30
SLOW_MOVING_DAYS = 60
SHORTFALL_RATIO = 0.20


def allowed_in(rid, product):
    restricted = product[6]
    return not restricted or rid in restricted


def region_skus(rid):
    """What a region's warehouses stock: the SKUs it lists (no `listed` in
    the region files yet, so the whole catalogue) that it may sell."""
    return [p[0] for p in PRODUCTS if allowed_in(rid, p)]


PRODUCT = {p[0]: p for p in PRODUCTS}


def regional_demand(rid, sku):
    """Baseline cases per day for a whole region: cheap goods sell more, the
    north drinks strong baijiu, the south low-alcohol, cities drink wine."""
    _, name, category, _, price, new, restricted = PRODUCT[sku]
    cases = 1_500_000 / price
    if category == "baijiu":
        cases *= 1.4 if rid in NORTH else 0.8 if rid in SOUTH else 1.0
        if rid in SOUTH and ("60°" in name or "56°" in name):
            cases *= 0.5
    elif category == "low-alcohol":
        cases *= 0.5 if rid in NORTH else 1.6 if rid in SOUTH else 1.0
    elif category == "wine" and rid in COASTAL_WINE:
        cases *= 1.3
    cases *= 1.5 if rid in BIG_MARKETS else 0.4 if rid in SMALL_MARKETS else 1.0
    if new:
        cases *= 0.6
    if restricted:
        cases *= 1.2
    return cases


def round_up(value, step):
    return -(-value // step) * step


def stock_row(demand, cover_days, fill):
    """One warehouse × SKU: target = `cover_days` of demand (rounded up to
    10 cases), on hand = `fill` × target."""
    target = max(20, round_up(demand * cover_days, 10))
    return {"on_hand": round(target * fill), "target": target, "daily_demand": demand}


def region_stock(rid, wh_index, sku):
    rng = random.Random(f"stock/WH-{rid.upper()}-{wh_index}/{sku}")
    share = 0.6 if wh_index == 1 else 0.4
    demand = max(1, round(regional_demand(rid, sku) * share * rng.uniform(0.7, 1.3)))
    cover_days, fill = rng.randint(20, 30), rng.uniform(0.85, 1.25)
    if (rid, sku) in SAFETY_LOW:
        fill = rng.uniform(0.08, 0.25)
    elif (rid, sku) in SHORT:
        fill = rng.uniform(0.55, 0.70)
    elif (rid, sku) in SURPLUS:
        fill = rng.uniform(1.60, 1.80)
    elif (rid, sku) in SLOW_MOVING:
        # Little demand, a target of 25 days, and 75–120 days on the shelf.
        demand = rng.randint(1, 2)
        row = stock_row(demand, 25, 1.0)
        row["on_hand"] = demand * rng.randint(75, 120)
        return row
    return stock_row(demand, cover_days, fill)


def dealer_profile(rid, index):
    """A generated dealer: tier, class, territory, credit and order size."""
    rng = random.Random(f"dealer/{rid}/{index}")
    r = rng.random()
    tier = "strategic" if r < 0.05 else "core" if r < 0.30 else "standard"
    r = rng.random()
    cls = "dealer" if r < 0.78 or tier == "strategic" else \
        "key_account" if r < 0.88 else "shop" if r < 0.95 else "restaurant"
    territory = [rid]
    if rng.random() < (0.4 if tier == "strategic" else 0.12):
        territory.append(rng.choice(NEIGHBOURS[rid][:3]))
    credit_yuan, step, usual = {
        ("strategic", "dealer"): ((2_000_000, 8_000_000), 10_000, (150, 400)),
        ("core", "dealer"): ((300_000, 1_500_000), 10_000, (40, 150)),
        ("standard", "dealer"): ((50_000, 400_000), 1_000, (10, 60)),
        "key_account": ((500_000, 3_000_000), 10_000, (20, 80)),
        "shop": ((20_000, 100_000), 1_000, (3, 15)),
        "restaurant": ((10_000, 60_000), 1_000, (2, 10)),
    }[(tier, cls) if cls == "dealer" else cls]
    limit = rng.randint(credit_yuan[0] // step, credit_yuan[1] // step) * step * 100
    r = rng.random()
    used = rng.uniform(1.00, 1.15) if r < 0.03 else rng.uniform(0.90, 0.99) if r < 0.08 \
        else rng.uniform(0.0, 0.6)
    return {"tier": tier, "class": cls, "territory": territory, "credit_limit": limit,
            "outstanding_balance": round(limit * used / 100) * 100,
            "usual_order_cases": rng.randint(*usual)}


def dealer_name(rid, index, cls, taken):
    rng = random.Random(f"name/{rid}/{index}")
    for _ in range(100):
        name = f"{rng.choice(PLACES[rid])} {rng.choice(NAME_WORDS)} {rng.choice(NAME_SUFFIXES[cls])}"
        if name not in taken:
            return name
    raise RuntimeError(f"no free dealer name in {rid}")


def dealer_count(rid):
    return 38 if rid in BIG_MARKETS else 22 if rid in SMALL_MARKETS else 31


DEALER_FIELDS = ["id", "name", "region", "tier", "class", "territory", "credit_limit",
                 "outstanding_balance", "usual_order_cases"]


def make_dealers():
    dealers, taken = [], {p["name"] for p in SAMPLE_DEALERS.values()}
    for rid, _, _ in REGIONS:
        for index in range(1, dealer_count(rid) + 1):
            if index == 1 and rid in SAMPLE_DEALERS:
                dealer = {**sample_dealer(rid), "name": SAMPLE_DEALERS[rid]["name"]}
            else:
                profile = dealer_profile(rid, index)
                dealer = {"id": f"D-{rid.upper()}-{index:04}", "region": rid, **profile,
                          "name": dealer_name(rid, index, profile["class"], taken)}
            taken.add(dealer["name"])
            dealers.append({key: dealer[key] for key in DEALER_FIELDS})
    return dealers


# Key-account stores with a store room of their own: the first key account
# of these regions.
STORE_ROOM_REGIONS = ["js", "bj", "sh", "gd", "zj", "sd", "hb", "cq"]


def make_warehouses(dealers):
    warehouses = [{"id": wid, "name": name, "region": region, "level": "hq"}
                  for wid, name, region in HQ_WAREHOUSES]
    for rid, _, _ in REGIONS:
        for i in (1, 2):
            warehouses.append({"id": f"WH-{rid.upper()}-{i}", "name": f"{PLACES[rid][i - 1]} regional DC",
                               "region": rid, "level": "region"})
    for d in dealers:
        if d["tier"] == "strategic":
            warehouses.append({"id": f"WH-{d['id']}", "name": f"{d['name']} warehouse",
                               "region": d["region"], "level": "dealer", "owner": d["id"]})
    for rid in STORE_ROOM_REGIONS:
        store = next(d for d in dealers if d["region"] == rid and d["class"] == "key_account")
        warehouses.append({"id": f"WH-{store['id']}", "name": f"{store['name']} store room",
                           "region": rid, "level": "store", "owner": store["id"]})
    return warehouses


def make_stock(warehouses, dealers):
    """HQ holds the whole catalogue, regional DCs what their region sells,
    dealers and stores a few of their region's best sellers (never a SKU
    their region raises an alert for, so alerts read the same whether the
    service counts regional DCs only or every level)."""
    by_id = {d["id"]: d for d in dealers}
    alerting = set(SAFETY_LOW) | set(SLOW_MOVING) | SHORT | SURPLUS
    rows = []
    for wh in warehouses:
        wid, rid, level = wh["id"], wh["region"], wh["level"]
        if level == "hq":
            for sku, *_ in PRODUCTS:
                rng = random.Random(f"stock/{wid}/{sku}")
                demand = max(1, round(1_500_000 / PRODUCT[sku][4] * rng.uniform(2.0, 4.0)))
                rows.append({"warehouse": wid, "sku": sku,
                             **stock_row(demand, rng.randint(25, 35), rng.uniform(0.9, 1.2))})
        elif level == "region":
            index = int(wid.rsplit("-", 1)[1])
            for sku in region_skus(rid):
                rows.append({"warehouse": wid, "sku": sku, **region_stock(rid, index, sku)})
        else:
            rng = random.Random(f"stock/{wid}")
            best = sorted((s for s in region_skus(rid) if (rid, s) not in alerting),
                          key=lambda s: -regional_demand(rid, s))[:8]
            usual = by_id[wh["owner"]]["usual_order_cases"]
            for sku in sorted(rng.sample(best, rng.randint(3, 5))):
                demand = max(1, round(usual / 7 / 4 * rng.uniform(0.5, 1.5)))
                rows.append({"warehouse": wid, "sku": sku,
                             **stock_row(demand, rng.randint(10, 20), rng.uniform(0.85, 1.25))})
    return rows


def make_tokens(dealers):
    tokens = [{"token": "demo-hq-admin", "name": "HQ demo administrator", "role": "hq_admin"}]
    for rid, name, _ in REGIONS:
        tokens.append({"token": f"demo-region-{rid}", "name": f"{name} center demo administrator",
                       "role": "region_admin", "region": rid})
    # The sample orders' dealers, then one of each interesting profile.
    chosen = [f"D-{rid.upper()}-0001" for rid in SAMPLE_DEALERS]
    for want in (lambda d: d["outstanding_balance"] > d["credit_limit"],
                 lambda d: d["tier"] == "strategic" and d["id"] not in chosen,
                 lambda d: len(d["territory"]) > 1,
                 lambda d: d["class"] == "shop",
                 lambda d: d["class"] == "restaurant",
                 lambda d: d["tier"] == "standard" and d["class"] == "dealer"):
        chosen.append(next(d["id"] for d in dealers if want(d) and d["id"] not in chosen))
    by_id = {d["id"]: d for d in dealers}
    for did in chosen:
        tokens.append({"token": f"demo-dealer-{did.lower()}", "name": f"{by_id[did]['name']} (demo)",
                       "role": "dealer", "dealer": did})
    return tokens


def toml_records(table, header, records):
    out = [header]
    for record in records:
        out.append(f"[[{table}]]")
        for key, value in record.items():
            out.append(f"{key} = {toml_list(value) if isinstance(value, list) else toml_str(value)}")
        out.append("")
    return "\n".join(out)


def check_alerts(stock, warehouses):
    """The alerts a fresh start raises must be exactly the designed ones,
    whether counted per warehouse, per region's DCs or over every level."""
    level = {w["id"]: (w["region"], w["level"]) for w in warehouses}
    for per_level in ({"region"}, {"hq", "region", "dealer", "store"}):
        totals = {}
        for row in stock:
            rid, lvl = level[row["warehouse"]]
            if lvl in per_level:
                t = totals.setdefault((rid, row["sku"]), [0, 0, 0])
                t[0] += row["on_hand"]
                t[1] += row["target"]
                t[2] += row["daily_demand"]
        groups = list(totals.items()) + [((level[r["warehouse"]][0], r["sku"]),
                                          [r["on_hand"], r["target"], r["daily_demand"]])
                                         for r in stock if level[r["warehouse"]][1] in per_level]
        for (rid, sku), (on_hand, target, demand) in groups:
            pair = (rid, sku)
            assert (on_hand < SAFETY_STOCK_RATIO * target) == (pair in SAFETY_LOW), (pair, on_hand, target)
            assert (on_hand / demand > SLOW_MOVING_DAYS) == (pair in SLOW_MOVING), (pair, on_hand, demand)
            assert (target - on_hand > SHORTFALL_RATIO * target) == (pair in SHORT or pair in SAFETY_LOW), pair
    for rid, sku, neighbour in SHORT_WITH_NEIGHBOUR_SURPLUS:
        assert neighbour in NEIGHBOURS[rid] and allowed_in(neighbour, PRODUCT[sku])
        need = sum(r["target"] - r["on_hand"] for r in stock if r["warehouse"].startswith(f"WH-{rid.upper()}-")
                   and r["sku"] == sku)
        spare = sum(r["on_hand"] - r["target"] for r in stock
                    if r["warehouse"].startswith(f"WH-{neighbour.upper()}-") and r["sku"] == sku)
        assert spare >= need, (rid, sku, neighbour, need, spare)


def dataset():
    dealers = make_dealers()
    warehouses = make_warehouses(dealers)
    stock = make_stock(warehouses, dealers)
    tokens = make_tokens(dealers)
    check_alerts(stock, warehouses)
    write("dataset/warehouses.toml", toml_records(
        "warehouse", "# Warehouses at four levels: hq, region (two per regional center), dealer\n"
        "# (strategic dealers) and store (key-account stores). `owner` holds a\n"
        "# dealer or store warehouse.\n", warehouses))
    write("dataset/dealers.toml", toml_records(
        "dealer", "# First-tier dealers and key-account stores. Money in fen.\n", dealers))
    write("dataset/stock.toml", toml_records(
        "stock", "# Stock per warehouse and SKU in cases: `target` is the safety-stock\n"
        "# target level, `daily_demand` the baseline forecast (cases/day) used for\n"
        "# days of cover until order history exists.\n", stock))
    write("dataset/tokens.toml", toml_records(
        "token", "# DEMO ONLY: plain-text API tokens for local demos and tests. The server\n"
        "# stores only their hashes when it loads this file. Never deploy them.\n", tokens))
    print(f"dataset: {len(warehouses)} warehouses, {len(dealers)} dealers, "
          f"{len(stock)} stock rows, {len(tokens)} tokens")


if __name__ == "__main__":
    catalogue()
    write("hq.toml", HQ)
    regions()
    orders()
    dataset()

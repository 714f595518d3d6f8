#!/usr/bin/env python3
"""Writes the reference brand's configuration: HQ, catalogue, 32 regional
centers with their plugin sets, and sample orders. Re-run after editing;
the output is committed so a reader sees plain TOML and JSON."""

import json
import os
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


def order_context(rid, oid, lines, tier="core", cls="dealer", placed=ms(2026, 9, 15, 10),
                  usual=60, credit=(50_000_000, 8_000_000), stock=None, urgency="normal", ship_to=None):
    stock = stock or (lambda region, rank: {sku: 500 if rank == 0 else 300 for sku, _ in lines})
    return {
        "order": {
            "id": oid, "dealer_id": f"D-{rid.upper()}-0001", "region": rid,
            "ship_to": ship_to or rid, "order_type": "spot", "urgency": urgency, "placed_at": placed,
            "lines": [{"line_no": i + 1, "sku": sku, "quantity": q} for i, (sku, q) in enumerate(lines)],
        },
        "dealer": {
            "id": f"D-{rid.upper()}-0001", "region": rid, "tier": tier, "class": cls,
            "territory": [rid], "credit_limit": credit[0], "outstanding_balance": credit[1],
            "usual_order_cases": usual,
        },
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
    save("sh-spend-threshold", order_context("sh", "SH-2026-0915-001", [("BJ-003", 4), ("WN-004", 3)], tier="strategic"))
    # A regional exclusive ordered outside its region: rejected.
    save("bj-diverted-exclusive", order_context("bj", "BJ-2026-0915-001", [("RX-001", 5), ("BJ-001", 5)]))
    # "100 cases typed as 1000": held for review.
    save("sc-abnormal-quantity", order_context("sc", "SC-2026-0915-001", [("BJ-008", 1000)], usual=50,
                                               credit=(900_000_000, 0)))
    # Scarce stock: a key account's expedited order split across neighbours,
    # with a production alert for the new product.
    def scarce(region, rank):
        return {"BJ-018": 40 if rank == 0 else 30, "BJ-001": 100}
    save("js-scarce-new-product", order_context("js", "JS-2026-0915-001", [("BJ-018", 90), ("BJ-001", 10)],
                                                cls="key_account", urgency="expedited", stock=scarce))


if __name__ == "__main__":
    catalogue()
    write("hq.toml", HQ)
    regions()
    orders()

#!/usr/bin/env python3
"""Generate examples/province/: the evidence of an invented province — 20 departments and 30
communes — scored with criteria/tien-giang-2023-departments.yaml and
criteria/tien-giang-2023-communes.yaml.

Deterministic: a fixed seed, sorted output, no clock. Plain Python (no third-party packages).
Run from anywhere:  python3 scripts/make_example_province.py [FOLDER]
It rewrites FOLDER/departments/ and FOLDER/communes/ completely (FOLDER defaults to
examples/province; the hand-written examples/province/README.md is left alone). The tests generate
into a temporary folder and compare with the committed files byte for byte.

Every unit, document number and figure here is invented for the example.
"""
from __future__ import annotations

import random
import shutil
import sys
from pathlib import Path

SEED = 20230110
REPO = Path(__file__).resolve().parent.parent
ROOT = REPO / "examples" / "province"
CRITERIA = {"department": REPO / "criteria" / "tien-giang-2023-departments.yaml",
            "commune": REPO / "criteria" / "tien-giang-2023-communes.yaml"}
PERIOD = "2023"
CSV_HEADER = ("unit_id,unit_name,unit_type,period,metric,option,value,numerator,denominator,"
              "document,date,issuer,file,reason,not_applicable")

# ------------------------------------------------------------------ units

# (id, name, short code used in document numbers, has public service units, handles land /
#  construction / investment procedures, has public investment capital)
DEPARTMENTS = [
    ("so-noi-vu", "Sở Nội vụ", "SNV", True, False, False),
    ("so-tu-phap", "Sở Tư pháp", "STP", True, False, False),
    ("so-ke-hoach-dau-tu", "Sở Kế hoạch và Đầu tư", "SKHĐT", False, True, True),
    ("so-tai-chinh", "Sở Tài chính", "STC", False, False, False),
    ("so-cong-thuong", "Sở Công Thương", "SCT", True, False, True),
    ("so-nong-nghiep", "Sở Nông nghiệp và Phát triển nông thôn", "SNN", True, False, True),
    ("so-giao-thong-van-tai", "Sở Giao thông vận tải", "SGTVT", True, True, True),
    ("so-xay-dung", "Sở Xây dựng", "SXD", True, True, True),
    ("so-tai-nguyen-moi-truong", "Sở Tài nguyên và Môi trường", "STNMT", True, True, True),
    ("so-thong-tin-truyen-thong", "Sở Thông tin và Truyền thông", "STTTT", True, False, True),
    ("so-lao-dong-tbxh", "Sở Lao động - Thương binh và Xã hội", "SLĐTBXH", True, False, True),
    ("so-van-hoa-the-thao-du-lich", "Sở Văn hóa, Thể thao và Du lịch", "SVHTTDL", True, False, True),
    # from here on: evidence in CSV (departments.csv)
    ("so-khoa-hoc-cong-nghe", "Sở Khoa học và Công nghệ", "SKHCN", True, False, True),
    ("so-giao-duc-dao-tao", "Sở Giáo dục và Đào tạo", "SGDĐT", True, False, True),
    ("so-y-te", "Sở Y tế", "SYT", True, False, True),
    ("thanh-tra-tinh", "Thanh tra tỉnh", "TTr", False, False, False),
    ("van-phong-ubnd-tinh", "Văn phòng UBND tỉnh", "VPUBND", True, False, True),
    ("ban-quan-ly-kcn", "Ban Quản lý các khu công nghiệp", "BQLKCN", False, True, False),
    ("so-ngoai-vu", "Sở Ngoại vụ", "SNgV", False, False, False),
    ("ban-dan-toc", "Ban Dân tộc", "BDT", False, False, False),
]
DEPARTMENTS_IN_YAML = 12

DISTRICTS = [
    ("huyen-dong-son", "Huyện Đông Sơn", [
        "Thị trấn Đông Sơn", "Xã An Bình", "Xã An Hòa", "Xã Bình Đông", "Xã Hòa Lợi",
        "Xã Long Phú", "Xã Mỹ Lộc", "Xã Phú Đông", "Xã Tân Hưng", "Xã Thạnh Lợi"]),
    ("huyen-tay-giang", "Huyện Tây Giang", [
        "Thị trấn Tây Giang", "Xã Bình Tây", "Xã Hưng Thạnh", "Xã Long Hòa", "Xã Mỹ Phước Tây",
        "Xã Phú Thạnh", "Xã Tân Lập", "Xã Tân Phước", "Xã Thạnh Mỹ", "Xã Vĩnh Hòa"]),
    ("thanh-pho-ben-giang", "Thành phố Bến Giang", [
        "Phường 1", "Phường 2", "Phường 3", "Phường 4", "Phường 5",
        "Phường An Lạc", "Phường Tân Long", "Xã Đạo Thạnh", "Xã Mỹ Hòa", "Xã Phước Thạnh"]),
]
COMMUNES_IN_YAML_PER_DISTRICT = 4

# Units whose quality is fixed rather than drawn, so that the example always has a clearly good
# unit and units that fall below the lowest passing band (see README.md).
QUALITY = {"so-thong-tin-truyen-thong": 0.98, "so-ngoai-vu": 0.45, "xa-vinh-hoa": 0.45}

ASCII = str.maketrans("àáảãạăằắẳẵặâầấẩẫậèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵđ",
                      "aaaaaaaaaaaaaaaaaeeeeeeeeeeeiiiiiooooooooooooooooouuuuuuuuuuuyyyyyd")


def slug(name: str) -> str:
    return "-".join(name.lower().translate(ASCII).split())


def committee(name: str) -> str:
    """`Xã An Bình` → `UBND xã An Bình` (the People's Committee, as documents name it)."""
    first, _, rest = name.partition(" ")
    if first == "Thị":
        return f"UBND thị {rest[0].lower()}{rest[1:]}"
    return f"UBND {first.lower()} {rest}"


def metric_order(unit_type: str) -> dict[str, int]:
    """Metrics in the order the criteria set declares them, so evidence reads like the criteria."""
    order, inside = {}, False
    for line in CRITERIA[unit_type].read_text(encoding="utf-8").splitlines():
        if line.startswith("metrics:"):
            inside = True
        elif inside and line and not line.startswith(" "):
            break
        elif inside and line.startswith("  ") and not line.startswith("   ") and ":" in line:
            order[line.strip().split(":", 1)[0]] = len(order)
    return order


# ------------------------------------------------------------------ values


class Unit:
    def __init__(self, uid, name, utype, code, quality, flags):
        self.id, self.name, self.type, self.code, self.q, self.flags = uid, name, utype, code, quality, flags
        self.values: dict[str, tuple] = {}  # metric -> ("value", v) | ("frac", n, d) | ("responses", {...})
        self.citations: dict[str, tuple | None] = {}  # metric -> (document, date, issuer, file) or None
        self.reasons: dict[str, str] = {}
        self.na: dict[str, str] = {}
        self.tasks: list[tuple] = []


def pct(rng, lo, hi):
    """A percentage with two decimals, as text, within [lo, hi]."""
    return f"{rng.uniform(lo, hi):.2f}"


def clamp_pct(text: str) -> str:
    v = min(100.0, max(0.0, float(text)))
    return f"{v:.2f}".rstrip("0").rstrip(".")


def responses(rng, quality, n):
    """Answer counts A–E for n respondents; better units get more A and B."""
    a = int(n * (0.45 + 0.45 * quality + rng.uniform(-0.05, 0.05)))
    b = int((n - a) * rng.uniform(0.55, 0.8))
    c = int((n - a - b) * rng.uniform(0.4, 0.7))
    d = int((n - a - b - c) * rng.uniform(0.3, 0.6))
    e = n - a - b - c - d
    return {"A": a, "B": b, "C": c, "D": d, "E": e}


def plan_date(rng, quality, month):
    """A plan date: in the deadline month for most units, later for weak ones."""
    if quality < 0.25:
        return f"2023-{month + 1:02d}-{rng.randint(3, 27):02d}"
    return f"2023-{month:02d}-{rng.randint(5, 27):02d}"


TASKS_DEPARTMENT = [
    ("Ban hành Kế hoạch CCHC năm 2023 của cơ quan", "Kế hoạch được ban hành", "Tháng 1"),
    ("Ban hành Kế hoạch kiểm tra CCHC năm 2023", "Kế hoạch kiểm tra", "Quý I"),
    ("Ban hành Kế hoạch tuyên truyền CCHC năm 2023", "Kế hoạch tuyên truyền", "Quý I"),
    ("Rà soát, đề xuất phương án đơn giản hóa TTHC thuộc lĩnh vực quản lý", "Báo cáo rà soát", "Quý II"),
    ("Báo cáo kết quả CCHC 6 tháng đầu năm 2023", "Báo cáo 6 tháng", "Tháng 6"),
    ("Số hóa kết quả giải quyết TTHC còn hiệu lực theo lộ trình", "Kết quả được số hóa", "Quý III"),
    ("Tổ chức đối thoại với tổ chức, cá nhân về TTHC", "Biên bản đối thoại", "Quý III"),
    ("Kiểm tra công vụ, văn hóa công sở tại cơ quan", "Báo cáo kiểm tra", "Quý III"),
    ("Cập nhật đề án vị trí việc làm", "Đề án được phê duyệt", "Quý IV"),
    ("Báo cáo kết quả CCHC năm 2023", "Báo cáo năm", "2023-12-15"),
]
TASKS_COMMUNE = [
    ("Ban hành Kế hoạch CCHC năm 2023 của UBND xã", "Kế hoạch được ban hành", "Tháng 2"),
    ("Niêm yết, công khai TTHC tại Bộ phận Một cửa", "Danh mục TTHC niêm yết", "Quý I"),
    ("Tuyên truyền CCHC trên hệ thống truyền thanh cơ sở", "Báo cáo tuyên truyền", "Quý II"),
    ("Báo cáo kết quả CCHC 6 tháng đầu năm 2023 gửi UBND huyện", "Báo cáo 6 tháng", "Tháng 6"),
    ("Số hóa kết quả giải quyết TTHC còn hiệu lực", "Kết quả được số hóa", "Quý III"),
    ("Đối thoại với người dân về TTHC", "Biên bản đối thoại", "Quý III"),
    ("Công khai dự toán ngân sách xã năm 2023", "Thông báo công khai", "Quý I"),
    ("Báo cáo kết quả CCHC năm 2023 gửi UBND huyện", "Báo cáo năm", "2023-12-10"),
]
QUARTER_END = {"Quý I": (3, 31), "Quý II": (6, 30), "Quý III": (9, 30), "Quý IV": (12, 31)}
MONTH_END = {"Tháng 1": (1, 31), "Tháng 2": (2, 28), "Tháng 6": (6, 30)}


def deadline_of(text: str) -> tuple[int, int]:
    if text in QUARTER_END:
        return QUARTER_END[text]
    if text in MONTH_END:
        return MONTH_END[text]
    _, m, d = text.split("-")
    return int(m), int(d)


def make_tasks(rng, unit, template, lead, partner):
    out = []
    for i, (task, product, deadline) in enumerate(template):
        m, d = deadline_of(deadline)
        roll = rng.random()
        if roll < 0.06 + 0.25 * (1 - unit.q):
            done = ""  # not done
        elif roll < 0.15 + 0.45 * (1 - unit.q):
            lm = min(12, m + 1)
            done = f"2023-{lm:02d}-{rng.randint(2, 20):02d}"  # late
            if (lm, int(done[-2:])) <= (m, d):
                done = ""
        else:
            done = f"2023-{m:02d}-{max(1, d - rng.randint(1, 20)):02d}"  # on time
        if i == 0:  # the first task is issuing the plan itself: done the day the plan was signed
            done = unit.values["plan_issued"][1] or ""
        out.append((task, lead, partner, product, deadline, done))
    return out


def department_values(rng, u: Unit, has_psu, land, invest):
    q = u.q
    v = u.values
    v["plan_issued"] = ("value", plan_date(rng, q, 1))
    v["budget_estimate_sent"] = ("value", rng.random() < 0.7 + 0.3 * q)
    v["late_reports"] = ("value", max(0, int(rng.gauss(2.2 * (1 - q), 0.8))))
    v["inspection_plan"] = ("value", rng.random() < 0.6 + 0.4 * q)
    v["subunits_inspected_rate"] = ("frac", *frac(rng, 30 * q + 5, 60, rng.randint(4, 12)))
    v["propaganda_done"] = ("value", rng.random() < 0.85 + 0.15 * q)
    v["initiatives_recognised"] = ("value", max(0, int(rng.gauss(2.5 * q, 0.8))))
    v["legal_docs_on_time_rate"] = ("frac", *frac(rng, 70 + 30 * q, 100, rng.randint(2, 9)))
    v["legal_docs_unlawful"] = ("value", 1 if rng.random() < 0.2 * (1 - q) else 0)
    v["legal_review_plan"] = ("value", rng.random() < 0.75 + 0.25 * q)
    v["law_enforcement_monitoring"] = ("value", rng.random() < 0.7 + 0.3 * q)
    v["survey_legal_quality"] = ("responses", responses(rng, q, rng.randint(18, 30)))
    v["procedures_announced_on_time_rate"] = ("frac", *frac(rng, 85 + 15 * q, 100, rng.randint(8, 40)))
    v["procedures_public_complete"] = ("value", rng.random() < 0.8 + 0.2 * q)
    files = rng.randint(800, 12000)
    on_time = min(files, int(files * (0.9 + 0.1 * q + rng.uniform(-0.02, 0.015))))
    v["on_time_rate"] = ("frac", on_time, files)
    v["digitised_results_rate"] = ("value", clamp_pct(pct(rng, 45 + 40 * q, 60 + 40 * q)))
    v["apology_rate"] = ("frac", *frac(rng, 60 + 40 * q, 100, max(1, files - on_time)))
    v["one_stop_rate"] = ("value", clamp_pct(pct(rng, 92 + 8 * q, 100)))
    v["simplification_plan"] = ("value", rng.random() < 0.8 + 0.2 * q)
    v["waiting_time_reduced"] = ("value", rng.random() < 0.5 + 0.5 * q)
    v["dialogue_held"] = ("value", rng.random() < 0.6 + 0.4 * q)
    v["structure_review_done"] = ("value", rng.random() < 0.8 + 0.2 * q)
    v["decentralisation_done"] = ("value", rng.random() < 0.8 + 0.2 * q)
    staff = rng.randint(25, 140)
    v["staff_by_job_position_rate"] = ("frac", min(staff, int(staff * (0.88 + 0.12 * q + rng.uniform(0, 0.03)))), staff)
    v["staff_streamlining"] = ("value", rng.random() < 0.85 + 0.15 * q)
    v["staff_evaluation"] = ("value", rng.random() < 0.9 + 0.1 * q)
    v["discipline_cases"] = ("value", 1 if rng.random() < 0.25 * (1 - q) else 0)
    v["civil_service_inspection"] = ("value", rng.random() < 0.75 + 0.25 * q)
    v["training_rate"] = ("frac", *frac(rng, 55 + 40 * q, 100, staff))
    v["admin_autonomy"] = ("value", True)
    v["e_documents_rate"] = ("value", clamp_pct(pct(rng, 88 + 12 * q, 100)))
    v["portal_info_complete"] = ("value", rng.random() < 0.75 + 0.25 * q)
    v["online_services_on_national_portal_rate"] = ("value", clamp_pct(pct(rng, 55 + 35 * q, 80 + 20 * q)))
    v["online_payment_rate"] = ("value", clamp_pct(pct(rng, 10 + 30 * q, 25 + 30 * q)))
    v["online_files_rate"] = ("value", clamp_pct(pct(rng, 35 + 40 * q, 55 + 45 * q)))
    v["satisfaction_procedures"] = ("responses", responses(rng, q, rng.randint(120, 400)))
    v["satisfaction_service"] = ("value", clamp_pct(pct(rng, 80 + 12 * q, 86 + 14 * q)))
    v["survey_leaders"] = ("responses", responses(rng, q, rng.randint(20, 40)))
    if has_psu:
        v["psu_reorganised"] = ("value", rng.random() < 0.8 + 0.2 * q)
        v["psu_staff_management"] = ("value", rng.random() < 0.85 + 0.15 * q)
        psu = rng.randint(2, 14)
        v["psu_self_financing_rate"] = ("frac", rng.randint(0, max(1, psu // 4)), psu)
        v["psu_internal_rules_rate"] = ("frac", psu if rng.random() < 0.7 + 0.3 * q else psu - 1, psu)
        v["satisfaction_public_services"] = ("value", clamp_pct(pct(rng, 80 + 10 * q, 87 + 13 * q)))
    else:
        for code in ("4.1.2", "5.2.2", "6.1.2", "6.1.3", "8.2.2"):
            u.na[code] = "Cơ quan không có đơn vị sự nghiệp công lập trực thuộc"
    if invest:
        v["investment_disbursed_rate"] = ("value", clamp_pct(pct(rng, 70 + 25 * q, 85 + 15 * q)))
        v["land_rearranged_rate"] = ("value", clamp_pct(pct(rng, 80 + 15 * q, 90 + 10 * q)))
    else:
        u.na["6.2.1"] = "Cơ quan không được giao kế hoạch vốn đầu tư công năm 2023"
        u.na["6.2.2"] = "Cơ quan không quản lý nhà, đất thuộc diện sắp xếp lại"
    if land:
        v["satisfaction_land_construction_investment"] = ("value", clamp_pct(pct(rng, 78 + 10 * q, 84 + 14 * q)))
    else:
        u.na["8.1.2"] = "Cơ quan không giải quyết TTHC lĩnh vực đất đai, xây dựng, đầu tư"
    if rng.random() < 0.35:
        v.pop("legal_docs_on_time_rate")
        u.na["2.1.1"] = "Năm 2023 cơ quan không được giao chủ trì soạn thảo VBQPPL"
    if rng.random() < 0.5:
        u.na["2.2.2"] = "Rà soát năm 2023 không phát hiện VBQPPL không còn phù hợp"
    else:
        v["legal_unsuitable_handled_rate"] = ("frac", *frac(rng, 60 + 40 * q, 100, rng.randint(1, 5)))
    if on_time == files:
        v.pop("apology_rate")
        u.na["3.2.3"] = "Không có hồ sơ trễ hạn trong năm 2023"


def commune_values(rng, u: Unit):
    q = u.q
    v = u.values
    v["plan_issued"] = ("value", plan_date(rng, q, 2))
    v["late_reports"] = ("value", max(0, int(rng.gauss(2.5 * (1 - q), 0.9))))
    v["propaganda_done"] = ("value", rng.random() < 0.85 + 0.15 * q)
    v["initiatives_recognised"] = ("value", 1 if rng.random() < 0.5 * q else 0)
    v["legal_docs_unlawful"] = ("value", 1 if rng.random() < 0.2 * (1 - q) else 0)
    v["legal_review_plan"] = ("value", rng.random() < 0.7 + 0.3 * q)
    v["law_enforcement_monitoring"] = ("value", rng.random() < 0.6 + 0.4 * q)
    v["procedures_public_complete"] = ("value", rng.random() < 0.8 + 0.2 * q)
    files = rng.randint(300, 4500)
    on_time = min(files, int(files * (0.88 + 0.12 * q + rng.uniform(-0.02, 0.015))))
    v["on_time_rate"] = ("frac", on_time, files)
    v["digitised_results_rate"] = ("value", clamp_pct(pct(rng, 30 + 40 * q, 45 + 45 * q)))
    if on_time == files:
        u.na["3.2.3"] = "Không có hồ sơ trễ hạn trong năm 2023"
    else:
        v["apology_rate"] = ("frac", *frac(rng, 50 + 50 * q, 100, files - on_time))
    v["one_stop_rate"] = ("value", clamp_pct(pct(rng, 90 + 10 * q, 100)))
    v["waiting_time_reduced"] = ("value", rng.random() < 0.5 + 0.5 * q)
    v["dialogue_held"] = ("value", rng.random() < 0.55 + 0.45 * q)
    v["decentralisation_done"] = ("value", rng.random() < 0.8 + 0.2 * q)
    staff = rng.randint(18, 24)
    v["staff_standard_rate"] = ("frac", min(staff, int(staff * (0.85 + 0.15 * q + rng.uniform(0, 0.05)))), staff)
    v["staff_evaluation"] = ("value", rng.random() < 0.9 + 0.1 * q)
    v["discipline_cases"] = ("value", 1 if rng.random() < 0.25 * (1 - q) else 0)
    v["civil_service_inspection"] = ("value", rng.random() < 0.7 + 0.3 * q)
    v["training_rate"] = ("frac", *frac(rng, 50 + 45 * q, 100, staff))
    v["admin_autonomy"] = ("value", True)
    v["commune_budget_public"] = ("value", rng.random() < 0.8 + 0.2 * q)
    v["e_documents_rate"] = ("value", clamp_pct(pct(rng, 85 + 15 * q, 100)))
    v["online_payment_rate"] = ("value", clamp_pct(pct(rng, 5 + 30 * q, 20 + 30 * q)))
    v["online_files_rate"] = ("value", clamp_pct(pct(rng, 25 + 40 * q, 45 + 45 * q)))
    v["satisfaction_procedures"] = ("responses", responses(rng, q, rng.randint(60, 180)))
    v["satisfaction_service"] = ("value", clamp_pct(pct(rng, 78 + 12 * q, 85 + 15 * q)))
    v["survey_leaders"] = ("responses", responses(rng, q, rng.randint(8, 15)))
    if rng.random() < 0.4:
        v["satisfaction_land_construction_investment"] = ("value", clamp_pct(pct(rng, 75 + 12 * q, 83 + 15 * q)))
    else:
        u.na["8.1.2"] = "Không có phiếu khảo sát về TTHC lĩnh vực đất đai, xây dựng, đầu tư tại xã"
    if rng.random() < 0.3:
        v["model_commune_done"] = ("value", rng.random() < 0.5 + 0.5 * q)
    else:
        u.na["1.4.1"] = "Xã không đăng ký xây dựng xã kiểu mẫu năm 2023"
    if rng.random() < 0.15:
        v["admin_unit_rearranged"] = ("value", rng.random() < 0.7 + 0.3 * q)
    else:
        u.na["4.1.1"] = "Xã không thuộc diện sắp xếp đơn vị hành chính giai đoạn 2023 - 2025"
    if rng.random() < 0.5:
        v["investment_disbursed_rate"] = ("value", clamp_pct(pct(rng, 65 + 30 * q, 80 + 20 * q)))
    else:
        u.na["6.1.3"] = "Xã không được giao kế hoạch vốn đầu tư công năm 2023"


def frac(rng, lo, hi, den):
    """A numerator/denominator whose ratio lies roughly in [lo, hi] percent."""
    lo, hi = max(0.0, min(lo, 100.0)), max(0.0, min(hi, 100.0))
    num = round(den * rng.uniform(lo, max(lo, hi)) / 100)
    return min(den, max(0, num)), den


# ------------------------------------------------------------------ citations

SURVEY_METRICS = {"survey_legal_quality", "satisfaction_procedures", "satisfaction_land_construction_investment",
                  "satisfaction_service", "satisfaction_public_services", "survey_leaders"}


def cite(rng, u: Unit, issuer_of_unit: str, report_no: int, plan_no: int, plan_date_text: str, survey_doc):
    has_files = u.flags.get("files", False)
    folder = f"tai-lieu/{u.id}"
    for metric in sorted(u.values):
        if metric in SURVEY_METRICS:
            u.citations[metric] = survey_doc
        elif metric == "plan_issued":
            if u.values[metric][1] is None:
                u.citations[metric] = None
            else:
                u.citations[metric] = (f"{plan_no}/KH-{u.code}", plan_date_text, issuer_of_unit,
                                       f"{folder}/ke-hoach-cchc-2023.txt")
        elif metric == "leader_direction":
            u.citations[metric] = (f"{report_no}/BC-{u.code}", "2023-12-15", issuer_of_unit,
                                   f"{folder}/bao-cao-cchc-2023.txt" if has_files else "")
        elif rng.random() < 0.04:
            u.citations[metric] = None  # no tài liệu kiểm chứng: the result asks for a giải trình
        else:
            u.citations[metric] = (f"{report_no}/BC-{u.code}", "2023-12-15", issuer_of_unit,
                                   f"{folder}/bao-cao-cchc-2023.txt" if has_files else "")


# ------------------------------------------------------------------ writing


def yaml_str(text) -> str:
    text = str(text)
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def yaml_scalar(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if v is None:
        return "null"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, str) and v[:4].isdigit() and v[4:5] == "-":
        return v  # a date
    if isinstance(v, str):
        try:
            float(v)
            return v  # a number written as text (exact decimal)
        except ValueError:
            return yaml_str(v)
    return yaml_str(v)


def write_yaml(folder: Path, criteria_id: str, u: Unit):
    lines = [f"# {u.name} — evidence for {PERIOD} (invented example data).",
             "format: cchc-evidence/1", f"criteria: {criteria_id}",
             f"unit: {{id: {u.id}, name: {yaml_str(u.name)}, type: {u.type}}}", f"period: {yaml_str(PERIOD)}",
             "metrics:"]
    anchors: dict[tuple, str] = {}
    order = metric_order(u.type)
    for metric in sorted(u.values, key=lambda m: order[m]):
        kind, *rest = u.values[metric]
        lines.append(f"  {metric}:")
        if kind == "value":
            lines.append(f"    value: {yaml_scalar(rest[0])}")
        elif kind == "frac":
            lines.append(f"    numerator: {rest[0]}")
            lines.append(f"    denominator: {rest[1]}")
        elif kind == "responses":
            counts = ", ".join(f"{k}: {n}" for k, n in rest[0].items())
            lines.append(f"    responses: {{{counts}}}")
        elif kind == "tasks_file":
            lines.append(f"    tasks_file: {rest[0]}")
        c = u.citations.get(metric)
        if c is not None:
            if c in anchors:
                lines.append(f"    citation: *{anchors[c]}")
            else:
                name = f"c{len(anchors) + 1}"
                anchors[c] = name
                parts = [f"document: {yaml_str(c[0])}"]
                if c[1]:
                    parts.append(f"date: {c[1]}")
                parts.append(f"issuer: {yaml_str(c[2])}")
                if c[3]:
                    parts.append(f"file: {c[3]}")
                lines.append(f"    citation: &{name} {{{', '.join(parts)}}}")
        if metric in u.reasons:
            lines.append(f"    reason: {yaml_str(u.reasons[metric])}")
    if u.na:
        lines.append("not_applicable:")
        for code in sorted(u.na):
            lines.append(f"  {yaml_str(code)}: {yaml_str(u.na[code])}")
    (folder / f"{u.id}.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")


def csv_cell(text) -> str:
    text = "" if text is None else str(text)
    if any(ch in text for ch in ',"\n'):
        return '"' + text.replace('"', '""') + '"'
    return text


def csv_value(v) -> str:
    if isinstance(v, bool):
        return "có" if v else "không"
    if v is None:
        return "not_done"
    if isinstance(v, str) and v[:4].isdigit() and v[4:5] == "-":
        y, m, d = v.split("-")
        return f"{d}/{m}/{y}"  # dates as Vietnamese users type them
    if isinstance(v, str):
        return v.replace(".", ",")  # decimal comma
    return str(v)


def csv_rows(u: Unit) -> list[str]:
    rows = []

    def row(metric="", option="", value="", num="", den="", cit=None, reason="", na=""):
        doc = date = issuer = file = ""
        if cit:
            doc, date, issuer, file = cit
            if date:
                y, m, d = date.split("-")
                date = f"{d}/{m}/{y}"
        cells = [u.id, u.name, u.type, PERIOD, metric, option, value, num, den, doc, date, issuer, file, reason, na]
        rows.append(",".join(csv_cell(c) for c in cells))

    order = metric_order(u.type)
    for metric in sorted(u.values, key=lambda m: order[m]):
        kind, *rest = u.values[metric]
        cit = u.citations.get(metric)
        if kind == "value":
            row(metric, value=csv_value(rest[0]), cit=cit, reason=u.reasons.get(metric, ""))
        elif kind == "frac":
            row(metric, num=rest[0], den=rest[1], cit=cit)
        elif kind == "responses":
            for i, (opt, n) in enumerate(rest[0].items()):
                row(metric, option=opt, value=n, cit=cit if i == 0 else None)
        elif kind == "tasks_file":
            row(metric, value=rest[0], cit=cit)  # the value cell names the task list file
    for code in sorted(u.na):
        row(reason=u.na[code], na=code)
    return rows


def write_placeholders(folder: Path, u: Unit):
    if not any(c and c[3] for c in u.citations.values()):
        return
    d = folder / "tai-lieu" / u.id
    d.mkdir(parents=True, exist_ok=True)
    for c in sorted({c for c in u.citations.values() if c and c[3]}):
        (folder / c[3]).write_text(
            f"TÀI LIỆU MINH HỌA — số liệu giả định của ví dụ, không phải văn bản thật.\n"
            f"Số, ký hiệu: {c[0]}\nNgày: {c[1]}\nCơ quan ban hành: {c[2]}\nĐơn vị: {u.name}\n",
            encoding="utf-8")


def write_tasks(folder: Path, u: Unit):
    d = folder / "tasks"
    d.mkdir(exist_ok=True)
    lines = ["task,lead,partners,product,deadline,completed"]
    for t in u.tasks:
        lines.append(",".join(csv_cell(x) for x in t))
    (d / f"{u.id}.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")


# ------------------------------------------------------------------ the province


def build(rng):
    departments, communes = [], []
    for i, (uid, name, code, psu, land, invest) in enumerate(DEPARTMENTS):
        q = QUALITY.get(uid, rng.uniform(0.35, 1.0))
        u = Unit(uid, name, "department", code, q, {"yaml": i < DEPARTMENTS_IN_YAML, "files": i < DEPARTMENTS_IN_YAML})
        department_values(rng, u, psu, land, invest)
        departments.append(u)
    for did, dname, names in DISTRICTS:
        for i, name in enumerate(names):
            short = did.removeprefix("huyen-").removeprefix("thanh-pho-")
            uid = f"{slug(name)}-{short}" if name.startswith("Phường") else slug(name)
            q = QUALITY.get(uid, rng.uniform(0.3, 1.0))
            u = Unit(uid, name, "commune", "UBND", q,
                     {"yaml": i < COMMUNES_IN_YAML_PER_DISTRICT, "files": True, "district": (did, dname)})
            commune_values(rng, u)
            communes.append(u)
    ids = [u.id for u in communes]
    assert len(set(ids)) == len(ids), "commune ids must be unique"

    # Designed cases, so that the example always shows them (see README.md):
    weak = next(u for u in departments if u.id == "so-ngoai-vu")  # falls below the Trung bình band
    for m, val in (("on_time_rate", ("frac", 1702, 1871)), ("digitised_results_rate", ("value", "48.5")),
                   ("online_payment_rate", ("value", "12.8")), ("inspection_plan", ("value", False)),
                   ("waiting_time_reduced", ("value", False)), ("late_reports", ("value", 3)),
                   ("satisfaction_service", ("value", "79.6")), ("plan_issued", ("value", "2023-03-06"))):
        weak.values[m] = val
    for m in ("subunits_inspected_rate", "legal_review_plan"):
        weak.values.pop(m, None)  # no evidence at all for these
    weak.values["apology_rate"] = ("frac", 112, 269)
    weak.na.pop("3.2.3", None)
    weak_commune = next(u for u in communes if u.id == "xa-vinh-hoa")  # a CSV unit, band Yếu
    for m, val in (("on_time_rate", ("frac", 1204, 1397)), ("digitised_results_rate", ("value", "32.75")),
                   ("plan_issued", ("value", None)), ("commune_budget_public", ("value", False)),
                   ("satisfaction_service", ("value", "76.2")), ("late_reports", ("value", 4))):
        weak_commune.values[m] = val
    weak_commune.values["satisfaction_procedures"] = ("responses", {"A": 41, "B": 40, "C": 22, "D": 9, "E": 4})
    weak_commune.na.pop("3.2.3", None)
    weak_commune.values["apology_rate"] = ("frac", 101, 193)

    # Manual points (chấm tay) with their reasons; CSV units carry them in the reason column.
    for u in departments + communes:
        pts = max(0.0, min(2.0, round((0.6 + 1.5 * u.q + rng.uniform(-0.2, 0.2)) * 4) / 4))
        u.values["leader_direction"] = ("value", f"{pts:g}")
        if pts >= 1.75:
            why = "Người đứng đầu chủ trì các cuộc họp về CCHC, ký kế hoạch và trực tiếp kiểm tra Bộ phận Một cửa"
        elif pts >= 1.0:
            why = "Người đứng đầu ký kế hoạch và chỉ đạo bằng văn bản; chưa trực tiếp kiểm tra việc thực hiện"
        else:
            why = "Chỉ có văn bản giao cấp phó phụ trách; không có tài liệu người đứng đầu trực tiếp chỉ đạo"
        u.reasons["leader_direction"] = why
    return departments, communes


def main(root: Path = ROOT):
    rng = random.Random(SEED)
    departments, communes = build(rng)
    survey = ("152/BC-SNV", "2023-11-24", "Sở Nội vụ (tỉnh ví dụ)", "")

    for part in ("departments", "communes"):
        shutil.rmtree(root / part, ignore_errors=True)
        (root / part).mkdir(parents=True)

    folder = root / "departments"
    csv_lines = [CSV_HEADER]
    for n, u in enumerate(departments):
        issuer = u.name
        report_no = 40 + 3 * n
        plan = u.values["plan_issued"][1]
        cite(rng, u, issuer, report_no, 5 + n, plan or "", survey)
        # units in CSV draw their tasks from their own generator, so the YAML units stay as they were
        task_rng = rng if u.flags["yaml"] else random.Random(f"{SEED}:{u.id}")
        u.tasks = make_tasks(task_rng, u, TASKS_DEPARTMENT, u.name, "Các phòng, đơn vị thuộc cơ quan")
        u.values["plan_tasks"] = ("tasks_file", f"tasks/{u.id}.csv")
        u.citations["plan_tasks"] = (f"{report_no}/BC-{u.code}", "2023-12-15", issuer,
                                     f"tai-lieu/{u.id}/bao-cao-cchc-2023.txt")
        write_tasks(folder, u)
        if u.flags["yaml"]:
            write_yaml(folder, "tien-giang-2023-departments", u)
        else:
            csv_lines += csv_rows(u)
        write_placeholders(folder, u)
    (folder / "departments.csv").write_text("\n".join(csv_lines) + "\n", encoding="utf-8")

    folder = root / "communes"
    by_district: dict[str, list[str]] = {}
    for n, u in enumerate(communes):
        did, dname = u.flags["district"]
        issuer = committee(u.name)
        report_no = 20 + n
        plan = u.values["plan_issued"][1]
        cite(rng, u, issuer, report_no, 3 + n % 9, plan or "", survey)
        task_rng = rng if u.flags["yaml"] else random.Random(f"{SEED}:{u.id}")
        u.tasks = make_tasks(task_rng, u, TASKS_COMMUNE, issuer, f"UBND {dname[0].lower()}{dname[1:]}")
        u.values["plan_tasks"] = ("tasks_file", f"tasks/{u.id}.csv")
        u.citations["plan_tasks"] = (f"{report_no}/BC-{u.code}", "2023-12-15", issuer,
                                     f"tai-lieu/{u.id}/bao-cao-cchc-2023.txt")
        write_tasks(folder, u)
        if u.flags["yaml"]:
            write_yaml(folder, "tien-giang-2023-communes", u)
        else:
            by_district.setdefault(did, [CSV_HEADER]).extend(csv_rows(u))
        write_placeholders(folder, u)
    for did, lines in sorted(by_district.items()):
        (folder / f"{did}.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {len(departments)} departments and {len(communes)} communes under {root}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT)

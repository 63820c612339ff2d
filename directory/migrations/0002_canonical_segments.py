"""The ten canonical segments of DESIGN.md; their slugs are a public contract."""

from django.db import migrations

SEGMENTS = [
    # slug, tier, English name, Chinese name, English description, Chinese description
    ("energy-power", "upstream", "Energy & power", "能源电力",
     "Power generation and supply for data centres, cooling, and green energy.",
     "为数据中心提供发电与供电、散热冷却和绿色能源。"),
    ("ai-chips", "upstream", "AI chips", "算力芯片",
     "GPUs, AI accelerators and NPUs, high-bandwidth memory (HBM) and interconnect.",
     "GPU、AI 加速器与 NPU、高带宽内存（HBM）和高速互连。"),
    ("cloud-compute", "upstream", "Cloud & compute services", "云计算与算力服务",
     "Cloud GPUs, parallel computing, data centres and compute scheduling.",
     "云端 GPU、并行计算、数据中心和算力调度。"),
    ("foundation-models", "midstream", "Foundation models", "基础大模型",
     "Labs building foundation models: architecture, algorithms and scale.",
     "研发基础大模型的机构：模型架构、算法与规模化训练。"),
    ("training-tuning", "midstream", "Training & tuning", "训练与调优",
     "Training frameworks, fine-tuning, evaluation and MLOps.",
     "训练框架、微调、评测与 MLOps。"),
    ("data-services", "midstream", "Data services", "数据服务",
     "Lawful data supply, collection, labelling, cleaning and organisation.",
     "合法合规的数据供给、采集、标注、清洗与治理。"),
    ("knowledge-base", "downstream", "Knowledge bases", "知识库",
     "Knowledge-base, retrieval-augmented generation (RAG) and vector-database vendors.",
     "知识库、检索增强生成（RAG）与向量数据库厂商。"),
    ("agent-platforms", "downstream", "Agent platforms", "智能体开发",
     "Agent frameworks and platforms for building LLM-driven agents.",
     "用于构建大模型智能体的开发框架与平台。"),
    ("aigc-tools", "downstream", "AIGC tools", "AIGC工具",
     "Tools that generate text, images, video, audio and code.",
     "生成文本、图像、视频、音频和代码的工具。"),
    ("industry-apps", "downstream", "Industry applications", "行业应用",
     "Vertical applications in law, medicine, finance, education and other industries.",
     "面向法律、医疗、金融、教育等行业的垂直应用。"),
]  # fmt: skip


def create_segments(apps, schema_editor):
    Segment = apps.get_model("directory", "Segment")
    for order, (slug, tier, name_en, name_zh, description_en, description_zh) in enumerate(SEGMENTS, 1):
        Segment.objects.update_or_create(
            slug=slug,
            defaults={
                "tier": tier,
                "order": order * 10,
                "name_en": name_en,
                "name_zh": name_zh,
                "description_en": description_en,
                "description_zh": description_zh,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("directory", "0001_initial")]

    operations = [migrations.RunPython(create_segments, migrations.RunPython.noop)]

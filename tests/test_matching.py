"""One rule for "is this the same organisation?" (directory/curation/matching.py): the
public form, the admin review page and the importer all find the same matches."""

import pytest
from django.contrib.auth.models import User

from directory.csvio import import_participants
from directory.curation.matching import find_duplicates, new_slug, same_organisation
from directory.models import Participant, Submission
from directory.urls_util import site_of

from .conftest import make_participant
from .submission_data import new_listing

pytestmark = pytest.mark.django_db

HEADER = "name_en,name_zh,segment,website,country,founded,open_source,description_en\n"


def test_a_shared_host_is_told_apart_by_its_path():
    assert site_of("https://github.com/vLLM-project/vllm/tree/main") == "github.com/vllm-project/vllm"
    assert site_of("https://huggingface.co/deepseek-ai/DeepSeek-V3") == "huggingface.co/deepseek-ai"
    assert site_of("https://www.NVIDIA.com/en-us/") == "nvidia.com"
    assert not same_organisation(
        ["vLLM"], "https://github.com/vllm-project/vllm", ["SGLang"], "https://github.com/sgl-project/sglang"
    )
    assert same_organisation(["A"], "https://www.nvidia.com/", ["B"], "https://nvidia.com/x")
    assert same_organisation(["ＮＶＩＤＩＡ "], "", ["nvidia", ""], "")  # width, case, spaces
    assert same_organisation(["", "英伟达"], "", ["NVIDIA", "英伟达"], "")
    assert not same_organisation(["NVIDIA Corp"], "", ["NVIDIA", "英伟达"], "")


def test_the_form_the_review_page_and_the_importer_agree(client, db):
    vllm = make_participant("vllm", name_en="vLLM", website="https://github.com/vllm-project/vllm")
    make_participant("zhipu-ai", name_en="Zhipu AI", name_zh="智谱", website="https://www.zhipuai.cn/")
    # Another project on the same host is a different organisation everywhere.
    assert not find_duplicates(["SGLang"], "https://github.com/sgl-project/sglang")
    assert find_duplicates(["Something"], "https://github.com/vllm-project/vllm/").participants == [vllm]
    # A Chinese name matches whatever the English one says.
    assert [p.slug for p in find_duplicates(["", "智谱"], "https://example.org/").participants] == [
        "zhipu-ai"
    ]

    report = import_participants(
        HEADER
        + "SGLang,,training-tuning,https://github.com/sgl-project/sglang,US,2023,yes,Serving engine.\n"
        + "Zhipu,智谱,foundation-models,,CN,2019,partly,GLM models.\n"
    )
    assert not report.errors, report.errors
    assert Participant.objects.filter(slug="sglang").exists()  # created, not merged into vLLM
    assert Participant.objects.get(slug="zhipu-ai").name_en == "Zhipu"  # matched by its Chinese name
    assert Participant.objects.count() == 3


def test_the_review_page_lists_the_duplicates_the_submitter_was_warned_about(client, db):
    make_participant("vllm", name_en="vLLM", website="https://github.com/vllm-project/vllm")
    response = client.post(
        "/submit/",
        new_listing(
            name_en="vLLM project", website="https://github.com/vllm-project/vllm", confirm_different="on"
        ),
    )
    assert response.status_code == 302
    submission = Submission.objects.get()
    admin = User.objects.create_superuser("root", "root@example.com", "x")
    client.force_login(admin)
    page = client.get(f"/admin/directory/submission/{submission.pk}/change/").content.decode()
    assert 'id="duplicate-warning"' in page and "vLLM" in page


def test_one_slug_rule_for_approval_and_import(db):
    make_participant("deepseek", name_en="DeepSeek")
    assert new_slug("DeepSeek") == "deepseek-2"
    assert new_slug("DeepSeek", taken={"deepseek-2"}) == "deepseek-3"
    assert new_slug("智谱") == "participant"
    assert new_slug("  --  ") == "participant"

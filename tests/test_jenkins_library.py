"""runners' own pipelines and templates, and the client's values written into a pipeline."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from runners import config
from runners.errors import UsageError
from runners.jenkins import jobs, library
from tests.groovy_scan import Source
from tests.jenkins_support import write_config

ROOT = Path(__file__).parent.parent
PRODUCTION_PIPELINES = sorted(p.name for p in (ROOT / "pipelines").glob("*.Jenkinsfile"))
VALUES = library.ClientValues(
    "git@gitlab.acme.test:acme/infra.git",
    "release/prod",
    "acme-git",
    "production",
    jenkins_token_env="ACME_JENKINS_TOKEN",
    mr_token_env="ACME_MR_TOKEN",
)


def test_the_library_is_found_beside_the_package() -> None:
    assert library.pipelines_dir() == ROOT / "pipelines"
    assert (library.templates_dir() / "folder.xml.j2").is_file()


@given(st.text(alphabet=st.characters(blacklist_characters="\r\n"), max_size=40))
def test_a_value_is_one_groovy_literal_that_reads_back_as_itself(value: str) -> None:
    literal = library.groovy_string(value)
    [parsed] = Source(literal).literals
    assert (parsed.start, parsed.end) == (0, len(literal)), "the literal must not end early"
    assert parsed.value == value  # single quotes: no interpolation of $


@pytest.mark.parametrize("value", ["a\nb", "a\rb"])
def test_a_line_break_is_refused(value: str) -> None:
    with pytest.raises(UsageError, match="a line break cannot go into a pipeline"):
        library.groovy_string(value)


@pytest.mark.parametrize("name", PRODUCTION_PIPELINES)
def test_each_production_pipeline_takes_the_clients_values(name: str) -> None:
    script = library.pipeline_script(name, VALUES)
    source = Source(script)
    [client] = [b for b in source.blocks("client") if source.code[b[0] - 4 : b[0]] == "Map "]
    body = [lit.value for lit in source.literals_in(client[1], client[2])]
    assert body == [
        "git@gitlab.acme.test:acme/infra.git",
        "release/prod",
        "acme-git",
        "production",
        "ACME_JENKINS_TOKEN",
        "ACME_MR_TOKEN",
    ]
    assert script.startswith(f"// pipelines/{name} of runners ")
    # Everything but the block is the library's file as it is.
    original = library.library_pipeline(name)
    head = original[: original.index(library.BLOCK_START)]
    tail = original[original.index(library.BLOCK_END) :]
    assert head in script and tail in script


def test_a_pipeline_without_its_block_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "jobs").mkdir()
    (tmp_path / "jobs" / "folder.xml.j2").write_text("")
    (tmp_path / "x.Jenkinsfile").write_text("pipeline { }\n")
    monkeypatch.setattr(library, "pipelines_dir", lambda: tmp_path)
    with pytest.raises(
        UsageError, match=r"pipelines/x.Jenkinsfile: expected one // <runners:client>"
    ):
        library.pipeline_script("x.Jenkinsfile", VALUES)
    with pytest.raises(UsageError, match="no such pipeline in the runners library"):
        library.pipeline_script("missing.Jenkinsfile", VALUES)


@pytest.mark.parametrize(
    ("extra", "approvals", "expected"),
    [
        ("", "", ("JENKINS_API_TOKEN", "")),
        ('token_env = "ACME_JENKINS"\n', "", ("ACME_JENKINS", "")),
        ("", "require_mr_approvals = 1\n", ("JENKINS_API_TOKEN", "RUNNERS_MR_TOKEN")),
        (
            '[jenkins.comments]\ntoken_env = "ACME_MR"\n',
            "require_mr_approvals = 2\n",
            ("JENKINS_API_TOKEN", "ACME_MR"),
        ),
    ],
)
def test_the_apply_binds_its_tokens_as_runners_toml_names_them(
    tmp_path: Path, extra: str, approvals: str, expected: tuple[str, str]
) -> None:
    """``runners apply`` reads the variables runners.toml names; the platform's only when needed."""
    path = write_config(tmp_path, "https://jenkins.acme.test/", extra=extra)
    text = path.read_text()
    if approvals:
        text = text.replace("require_approval = true\n", "require_approval = true\n" + approvals)
    path.write_text(text)
    values = jobs.client_values(config.load(path))
    assert (values.jenkins_token_env, values.mr_token_env) == expected

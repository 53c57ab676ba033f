"""profiles.yml read as dbt reads it: where, which profile and target, env_var()."""

from __future__ import annotations

from pathlib import Path

import pytest

from recce_trio.errors import ProfileError
from recce_trio.warehouse.profiles import find_profiles_dir, load_target

PROFILES = """
shop:
  target: "{{ env_var('SHOP_TARGET', 'dev') }}"
  outputs:
    dev:
      type: duckdb
      path: "{{ env_var('SHOP_DB', 'shop.duckdb') }}"
      threads: 4
    pg:
      type: postgres
      host: db.internal.example
      port: "{{ env_var('PG_PORT', '5432') }}"
      user: reviewer
      password: "{{ env_var('PG_PASSWORD') }}"
      dbname: shop
      schema: dev
other:
  target: x
  outputs:
    x: {type: snowflake, account: acme}
"""


def write(folder: Path, text: str = PROFILES, name: str = "profiles.yml") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text)
    return folder


@pytest.fixture
def project(tmp_path: Path) -> Path:
    project = tmp_path / "project"
    project.mkdir()
    (project / "dbt_project.yml").write_text("name: shop\nprofile: shop\nvars:\n  min_amount: 5\n")
    return project


def test_profiles_dir_order(tmp_path: Path, project: Path) -> None:
    home = tmp_path / "home"
    explicit, from_env = tmp_path / "explicit", tmp_path / "env"
    env = {"DBT_PROFILES_DIR": str(from_env)}
    assert find_profiles_dir(explicit, project_dir=project, env=env, home=home) == explicit
    assert find_profiles_dir(None, project_dir=project, env=env, home=home) == from_env
    assert find_profiles_dir(None, project_dir=project, env={}, home=home) == home / ".dbt"
    write(project)
    assert find_profiles_dir(None, project_dir=project, env={}, home=home) == project


def test_defaults_from_dbt_project_and_profile(tmp_path: Path, project: Path) -> None:
    write(tmp_path / "home" / ".dbt")
    target = load_target(project_dir=project, env={}, home=tmp_path / "home")
    assert (target.profile, target.target, target.type, target.threads) == (
        "shop",
        "dev",
        "duckdb",
        4,
    )
    assert target.settings["path"] == "shop.duckdb"
    assert target.project_vars == {"min_amount": 5}
    assert target.describe() == "duckdb (profile 'shop', target 'dev')"


def test_env_var_picks_the_target_and_fills_values(tmp_path: Path, project: Path) -> None:
    write(project)
    env = {"SHOP_TARGET": "pg", "PG_PASSWORD": "hunter2", "PG_PORT": "6543"}
    target = load_target(project_dir=project, env=env)
    assert target.target == "pg" and target.type == "postgres" and target.threads == 1
    assert target.settings["password"] == "hunter2"
    assert target.settings["port"] == 6543
    assert "hunter2" not in repr(target) and "db.internal" not in target.describe()


def test_explicit_profile_and_target_win(tmp_path: Path, project: Path) -> None:
    write(tmp_path / "p")
    target = load_target(profiles_dir=tmp_path / "p", project_dir=project, profile="other")
    assert (target.profile, target.target, target.type) == ("other", "x", "snowflake")


def test_env_var_without_default_must_be_set(tmp_path: Path, project: Path) -> None:
    write(project)
    with pytest.raises(ProfileError) as info:
        load_target(project_dir=project, target="pg", env={})
    text = str(info.value)
    assert "'PG_PASSWORD' is not set" in text and "shop.outputs.pg.password" in text
    assert "profiles.yml" in text


@pytest.mark.parametrize(
    ("kwargs", "text"),
    [
        ({"profile": "nope"}, "Profile 'nope' not found in profiles.yml"),
        ({"target": "prod"}, "Target 'prod' not found in profile 'shop'"),
    ],
)
def test_missing_profile_or_target(
    tmp_path: Path, project: Path, kwargs: dict[str, str], text: str
) -> None:
    write(project)
    with pytest.raises(ProfileError, match=text) as info:
        load_target(project_dir=project, env={}, **kwargs)
    assert "db.internal.example" not in str(info.value)


def test_no_profiles_file_or_no_profile_name(tmp_path: Path) -> None:
    with pytest.raises(ProfileError, match="No profiles file at"):
        load_target(profiles_dir=tmp_path / "none", profile="shop", env={})
    write(tmp_path / "p")
    with pytest.raises(ProfileError, match="No dbt profile chosen"):
        load_target(profiles_dir=tmp_path / "p", project_dir=tmp_path, env={})


def test_invalid_yaml_does_not_quote_the_file(tmp_path: Path) -> None:
    write(tmp_path / "p", "shop:\n  outputs:\n    dev: {password: s3cret, [\n")
    with pytest.raises(ProfileError, match="not valid YAML") as info:
        load_target(profiles_dir=tmp_path / "p", profile="shop", env={})
    assert "s3cret" not in str(info.value)


def test_template_target_and_scoped_vars(tmp_path: Path) -> None:
    project = tmp_path / "project"
    write(project)
    (project / "dbt_project.yml").write_text(
        "name: shop\nprofile: shop\nvars:\n  a: 1\n  shop: {b: 2}\n  other_pkg: {c: 3}\n"
    )
    target = load_target(project_dir=project, target="pg", env={"PG_PASSWORD": "pw"})
    assert target.project_vars == {"a": 1, "b": 2}
    assert target.template_target() == {
        "name": "pg",
        "profile_name": "shop",
        "type": "postgres",
        "threads": 1,
        "schema": "dev",
        "database": "shop",
    }

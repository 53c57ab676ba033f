"""The page and other UI builds (--ui-dir): files, client routes, and the API never shadowed."""

from __future__ import annotations

from pathlib import Path

from recce_trio.config import ServerConfig
from recce_trio.server.app import create_app


def ui_build(root: Path) -> Path:
    """A static export shaped like Recce's own UI build."""
    (root / "lineage").mkdir(parents=True)
    (root / "_next" / "static").mkdir(parents=True)
    (root / "index.html").write_text("<html>shell</html>")
    (root / "lineage" / "index.html").write_text("<html>lineage page</html>")
    (root / "_next" / "static" / "app.abc123.js").write_text("console.log(1)")
    return root


async def test_ui_dir_serves_files_routes_and_leaves_the_api_alone(
    project: Path, tmp_path: Path
) -> None:
    ui = ui_build(tmp_path / "ui")
    app = create_app(ServerConfig(project_dir=project, loader="thread", ui_dir=ui))
    async with app.test_app() as test_app:
        client = test_app.test_client()
        shell = await client.get("/")
        lineage = await client.get("/lineage/")
        deep_link = await client.get("/checks/")
        asset = await client.get("/_next/static/app.abc123.js")
        missing_asset = await client.get("/_next/static/gone.js")
        unknown_api = await client.get("/api/not-a-route")
        health = await client.get("/api/health")
    assert await shell.get_data() == b"<html>shell</html>"
    assert await lineage.get_data() == b"<html>lineage page</html>"
    assert await deep_link.get_data() == b"<html>shell</html>"  # client-side route
    assert asset.status_code == 200
    assert "immutable" in asset.headers["Cache-Control"]
    assert missing_asset.status_code == 404
    assert unknown_api.status_code == 404
    assert await unknown_api.get_json() == {"detail": "Not Found"}
    assert (await health.get_json())["status"] == "ok"


async def test_builtin_page_revalidates_and_missing_files_are_404(project: Path) -> None:
    app = create_app(ServerConfig(project_dir=project, loader="thread"))
    async with app.test_app() as test_app:
        client = test_app.test_client()
        page = await client.get("/")
        script = await client.get("/app.js")
        missing = await client.get("/missing.js")
        traversal = await client.get("/../pyproject.toml")
    assert page.status_code == 200
    assert b"<html" in (await page.get_data()).lower()
    assert script.status_code == 200
    assert "no-cache" in script.headers["Cache-Control"]
    assert missing.status_code == 404
    assert traversal.status_code == 404


async def test_ui_dir_refuses_dotfiles_and_symlinks_out_of_the_folder(
    project: Path, tmp_path: Path
) -> None:
    ui = ui_build(tmp_path / "ui")
    (ui / ".env").write_text("SECRET=1")
    (ui / ".git").mkdir()
    (ui / ".git" / "config").write_text("[core]")
    (ui / ".hidden").mkdir()
    (ui / ".hidden" / "index.html").write_text("<html>hidden</html>")
    outside = tmp_path / "outside.txt"
    outside.write_text("not for the web")
    (ui / "leak.txt").symlink_to(outside)
    (ui / "leakdir").symlink_to(tmp_path)
    (ui / "inside.txt").write_text("inside")
    (ui / "alias.txt").symlink_to(ui / "inside.txt")  # a link within the folder is fine
    app = create_app(ServerConfig(project_dir=project, loader="thread", ui_dir=ui))
    async with app.test_app() as test_app:
        client = test_app.test_client()
        answers = {
            path: await client.get(path)
            for path in (
                "/.env",
                "/.git/config",
                "/.hidden/",
                "/leak.txt",
                "/leakdir/outside.txt",
                "/alias.txt",
                "/%00",
                "/x%00.js",
            )
        }
    for path in (
        "/.env",
        "/.git/config",
        "/.hidden/",
        "/leak.txt",
        "/leakdir/outside.txt",
        "/x%00.js",
    ):
        assert answers[path].status_code == 404, path
        assert await answers[path].get_json() == {"detail": "Not Found"}
    assert await answers["/alias.txt"].get_data() == b"inside"
    assert await answers["/%00"].get_data() == b"<html>shell</html>"  # a client route


async def test_favicon_is_served_by_the_builtin_page_and_under_ui_dir(
    project: Path, tmp_path: Path
) -> None:
    for ui_dir in (None, ui_build(tmp_path / "ui")):
        app = create_app(ServerConfig(project_dir=project, loader="thread", ui_dir=ui_dir))
        async with app.test_app() as test_app:
            icon = await test_app.test_client().get("/favicon.ico")
        assert icon.status_code == 200
        assert icon.mimetype in ("image/vnd.microsoft.icon", "image/x-icon")
        assert (await icon.get_data()).startswith(b"\x00\x00\x01\x00")  # an ICO header

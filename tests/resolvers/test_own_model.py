"""A user points the catalog at a local diffusers folder and gets images, no code change."""

from pathlib import Path

from starlette.testclient import TestClient

from core.settings import Settings
from darkroom.services import build_app
from engine.devmodel import ensure_tiny_model
from tests.conftest import Api
from tests.resolvers.test_jobs_api import CREATE

CATALOG = """
[[models]]
id = "my-model"
name = "My fine-tune"
description = "A diffusers folder on local disk."
source = "./my-model"
family = "SD15"
is_default = true
dtypes = { cpu = "float32" }
default_width = 64
default_height = 64
min_width = 64
min_height = 64
default_steps = 2
schedulers = ["K_EULER", "DDIM"]
"""


def test_a_local_diffusers_folder_in_the_catalog_generates(
    sqlite_database_url: str, tmp_path: Path
) -> None:
    # given a diffusers folder (saved with save_pretrained) and a catalog naming it
    ensure_tiny_model(tmp_path / "my-model")
    (tmp_path / "models.toml").write_text(CATALOG)
    settings = Settings(
        data_dir=tmp_path / "data",
        database_url=sqlite_database_url,
        models_file=tmp_path / "models.toml",
    )
    with TestClient(build_app(settings)) as client:
        api = Api(client, settings)
        token = api.account("una@example.com", credits=5)
        # when a user lists models and generates with it
        models = api.data("{ models { modelId isDefault } }")["models"]
        payload = api.data(
            CREATE,
            {"input": {"prompt": "mine", "numOutputs": 1}, "wait": 60},
            token=token,
        )["generationCreate"]
    # then it is the default model and the job succeeds on it
    assert models == [{"modelId": "my-model", "isDefault": True}]
    assert payload["userErrors"] == []
    assert payload["job"]["status"] == "SUCCEEDED"
    assert payload["job"]["width"] == 64

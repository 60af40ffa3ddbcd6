"""The catalog over GraphQL: public, and reporting the values that really run."""

from engine.catalog import SCHEDULERS
from tests.conftest import Api

MODELS = """{ models { id modelId name description isDefault family defaultWidth
  defaultHeight defaultSteps defaultGuidance defaultScheduler { schedulerId name }
  minWidth maxWidth minHeight maxHeight sizeMultiple minSteps maxSteps
  supportsGuidance schedulers { schedulerId name } } }"""
DEFAULTS = """query($modelId: ID) { defaults(modelId: $modelId) {
  model { modelId } scheduler { schedulerId name } width height numOutputs guidanceScale
  inferenceSteps promptStrength } }"""


def test_models_are_listed_without_a_token_with_their_limits(api: Api) -> None:
    # given no token at all
    # when the models are listed
    models = api.data(MODELS)["models"]
    # then the built-in tiny model comes with the limits its requests must respect
    [tiny] = models
    assert tiny["modelId"] == "darkroom-tiny"
    assert tiny["isDefault"] is True
    assert tiny["family"] == "SD15"
    assert (tiny["minWidth"], tiny["maxWidth"]) == (64, 1024)
    assert (tiny["defaultWidth"], tiny["defaultHeight"]) == (256, 256)
    assert tiny["defaultSteps"] == 20
    assert tiny["defaultScheduler"] == {"schedulerId": "K_EULER", "name": "Euler"}
    assert tiny["sizeMultiple"] == 8
    assert {"schedulerId": "DDIM", "name": "DDIM"} in tiny["schedulers"]
    assert "K_LMS" not in [s["schedulerId"] for s in tiny["schedulers"]]


def test_schedulers_and_upscalers_are_listed_without_a_token(api: Api) -> None:
    # given no token
    # when schedulers and upscalers are listed
    data = api.data(
        "{ schedulers { schedulerId name } upscaleModels { modelId name description isDefault scale } }"
    )
    # then every scheduler is there and exactly one upscaler is the default
    assert [s["schedulerId"] for s in data["schedulers"]] == list(SCHEDULERS)
    assert [u["isDefault"] for u in data["upscaleModels"]].count(True) == 1
    assert all(u["scale"] == 4 for u in data["upscaleModels"])


def test_defaults_report_what_a_request_that_leaves_everything_out_gets(
    api: Api,
) -> None:
    # given the default model
    # when its defaults are asked for, with and without naming it
    plain = api.data(DEFAULTS)["defaults"]
    named = api.data(DEFAULTS, {"modelId": "darkroom-tiny"})["defaults"]
    # then both are the model's own values, not a global guess
    assert plain == named
    assert plain == {
        "model": {"modelId": "darkroom-tiny"},
        "scheduler": {"schedulerId": "K_EULER", "name": "Euler"},
        "width": 256,
        "height": 256,
        "numOutputs": 2,
        "guidanceScale": 7.0,
        "inferenceSteps": 20,
        "promptStrength": 0.5,
    }


def test_defaults_for_an_unknown_model_are_not_found(api: Api) -> None:
    # given a model id the catalog does not have
    # when its defaults are asked for
    body = api.post(DEFAULTS, {"modelId": "no-such-model"})
    # then a top-level NOT_FOUND error names the known models
    assert body.get("data") is None
    [error] = body["errors"]
    assert error["extensions"]["code"] == "NOT_FOUND"
    assert "darkroom-tiny" in error["message"]


def test_a_model_is_named_by_its_global_id_or_its_catalog_id_alike(api: Api) -> None:
    # given the `id` and the `modelId` the catalog lists for the tiny model
    [tiny] = api.data("{ models { id modelId } }")["models"]
    # when the defaults are asked for by either
    by_id = api.data(DEFAULTS, {"modelId": tiny["id"]})["defaults"]
    by_key = api.data(DEFAULTS, {"modelId": tiny["modelId"]})["defaults"]
    # then both name the same model
    assert by_id == by_key
    assert by_id["model"] == {"modelId": "darkroom-tiny"}


def test_the_schema_knows_every_model_family_the_engine_does() -> None:
    from engine.catalog import Family
    from schema.enums import ModelFamily

    assert [f.value for f in ModelFamily] == [f.value for f in Family]

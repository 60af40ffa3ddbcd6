// The client against a live Darkroom server: tests/clients/test_typescript.py
// starts one on the embedded default (tiny offline model, in-process runner,
// which runs one job at a time) and passes its URL and a PRO account's token.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { crc32, deflateSync } from "node:zlib";
import { after, test } from "node:test";

import {
  createClient,
  DarkroomError,
  DarkroomInputError,
  type GenerationCreateInput,
  type Job,
  type JobUpdate,
} from "../src/index.js";

const url = required("DARKROOM_URL");
const client = createClient({ url, token: required("DARKROOM_TOKEN") });
after(() => client.close());

// 64 px and 2 steps: the tiny model finishes this in milliseconds.
const TINY = {
  prompt: "a red fox in the snow",
  modelId: "darkroom-tiny",
  width: 64,
  height: 64,
  inferenceSteps: 2,
  numOutputs: 1,
} satisfies GenerationCreateInput;
// Holds the runner for seconds (a step takes about 0.2 s on two CPU cores) while
// a test looks at the job queued behind it; cancelled once it has served.
const BLOCKER = { ...TINY, width: 128, height: 128, inferenceSteps: 50 };
// Generous: the first job loads the model, and CI machines may be busy.
const LIMIT = { timeout: 120_000 };

test("me and models describe the account and the catalog", LIMIT, async () => {
  const me = await client.me();
  assert.equal(me.tier, "PRO");
  assert.ok(me.credits.total > 0);
  assert.ok(me.tokenScopes.includes("GENERATE"));
  // The catalog needs no token.
  const models = await createClient({ url }).models();
  const tiny = models.find((m) => m.modelId === "darkroom-tiny");
  assert.ok(tiny);
  assert.equal(tiny.sizeMultiple, 8);
});

test("watch follows a job from the queue to SUCCEEDED with typed updates", LIMIT, async () => {
  // given a job waiting behind another, so its whole life is still ahead
  const blocker = await client.generate(BLOCKER);
  const job = await client.generate({ ...TINY, seed: 42 });
  assert.equal(job.cost, 1);
  // when it is watched, and the job ahead is cancelled to let it run
  const updates: JobUpdate[] = [];
  for await (const update of client.watch(job.id)) {
    updates.push(update);
    if (updates.length === 1) await client.cancel(blocker.id);
  }
  // then its current state comes first, a PROGRESS per step, its image, the end
  assert.equal(updates[0]?.status, "QUEUED");
  // (a slow subscriber may get progress coalesced, so steps only ever rise)
  const progress = updates.filter((u) => u.type === "PROGRESS");
  const steps = progress.map((u) => u.step ?? 0);
  assert.deepEqual(steps, [...new Set(steps)].sort((a, b) => a - b));
  assert.equal(steps.at(-1), 2);
  assert.ok(progress.every((u) => u.totalSteps === 2));
  const outputs = updates.flatMap((u) => (u.type === "OUTPUT" && u.output ? [u.output] : []));
  assert.equal(outputs.length, 1);
  assert.match(outputs[0]?.imageUrl ?? "", /^http:\/\/127\.0\.0\.1:\d+\/files\//);
  assert.equal(outputs[0]?.seed, 42);
  assert.equal(updates.at(-1)?.type, "SUCCEEDED");
  assert.equal(updates.filter((u) => u.type === "SUCCEEDED").length, 1);
  // and reading the job back gives the same image, which downloads as a PNG
  const read = await client.job(job.id);
  assert.equal(read.status, "SUCCEEDED");
  assert.deepEqual(
    read.outputs.map((o) => o.id),
    outputs.map((o) => o.id),
  );
  const png = await fetch(outputs[0]?.imageUrl ?? "");
  assert.equal(png.status, 200);
  assert.equal(png.headers.get("content-type"), "image/png");
});

test("outputs page through a job's images with filters and cursors", LIMIT, async () => {
  // given a finished job with three images (wait: the answer comes at the end)
  const job = await client.generate({ ...TINY, numOutputs: 3 }, { wait: 60 });
  assert.equal(job.status, "SUCCEEDED");
  const where = { jobId: job.id, width: { _eq: 64 } };
  // when its outputs are read two at a time
  const first = await client.outputs({ first: 2, where, withTotalCount: true });
  const second = await client.outputs({ first: 2, after: first.pageInfo.endCursor, where });
  // then two pages cover all three once, and only the first counted
  assert.equal(first.totalCount, 3);
  assert.equal(second.totalCount, undefined);
  assert.equal(first.edges.length, 2);
  assert.ok(first.pageInfo.hasNextPage);
  assert.equal(second.edges.length, 1);
  assert.ok(!second.pageInfo.hasNextPage);
  const paged = [...first.edges, ...second.edges].map((e) => e.node.id).sort();
  assert.deepEqual(paged, job.outputs.map((o) => o.id).sort());
  // and sorting by another field is typed too
  const oldest = await client.outputs({
    first: 1,
    where,
    orderBy: [{ field: "CREATED_AT", direction: "ASC" }],
  });
  assert.equal(oldest.edges.length, 1);
});

test("an output upscales 4x once; asking again reuses that job for free", LIMIT, async () => {
  // given a finished 64 px image
  const job = await client.generate(TINY, { wait: 60 });
  const outputId = job.outputs[0]?.id ?? assert.fail("no output");
  // when it is upscaled twice
  const first = await client.upscale({ outputId }, { wait: 60 });
  const again = await client.upscale({ outputId });
  // then the first made a 256 px image and the second returned that job
  assert.equal(first.job.status, "SUCCEEDED");
  assert.equal(first.job.outputs[0]?.width, 256);
  assert.equal(first.reused, false);
  assert.equal(again.reused, true);
  assert.equal(again.job.id, first.job.id);
});

test("cancelling a queued job refunds it in full", LIMIT, async () => {
  // given a job queued behind a running one
  const blocker = await client.generate(BLOCKER);
  const queued = await client.generate({ ...TINY, numOutputs: 2 });
  const before = (await client.me()).credits.total;
  // when it is cancelled
  let cancelled: Job;
  try {
    cancelled = await client.cancel(queued.id);
  } finally {
    await client.cancel(blocker.id);
    // A running job's refund lands when the runner stops it: wait for that, or
    // it could arrive during the next test's balance check.
    await finished(blocker.id);
  }
  // then it ends CANCELLED with its 2 credits back
  assert.equal(cancelled.status, "CANCELLED");
  assert.equal(cancelled.refunded, 2);
  assert.ok((await client.me()).credits.total >= before + 2);
  const listed = await client.jobs({ first: 10, where: { status: ["CANCELLED"] } });
  assert.ok(listed.edges.some((e) => e.node.id === queued.id));
  // and cancelling it again is a userError: it has finished
  await assert.rejects(client.cancel(queued.id), (error) => {
    assert.ok(error instanceof DarkroomInputError);
    assert.equal(error.code, "JOB_FINISHED");
    return true;
  });
});

test("bad input is a DarkroomInputError naming each field, nothing charged", LIMIT, async () => {
  const before = (await client.me()).credits.total;
  await assert.rejects(client.generate({ ...TINY, width: 1001, numOutputs: 9 }), (error) => {
    assert.ok(error instanceof DarkroomInputError);
    const codes = Object.fromEntries(error.errors.map((e) => [e.field?.join("."), e.code]));
    assert.equal(codes["input.width"], "INVALID_SIZE");
    assert.equal(codes["input.numOutputs"], "OUT_OF_RANGE");
    return true;
  });
  await assert.rejects(client.generate({ ...TINY, modelId: "no-such-model" }), {
    name: "DarkroomInputError",
    code: "UNKNOWN_MODEL",
  });
  assert.equal((await client.me()).credits.total, before);
});

test("a missing or wrong token is UNAUTHENTICATED over HTTP and websocket", LIMIT, async () => {
  const isUnauthenticated = (error: unknown) => {
    assert.ok(error instanceof DarkroomError);
    assert.ok(!(error instanceof DarkroomInputError));
    assert.equal(error.code, "UNAUTHENTICATED");
    return true;
  };
  await assert.rejects(createClient({ url }).me(), isUnauthenticated);
  const stranger = createClient({ url, token: `drk_${"0".repeat(64)}` });
  await assert.rejects(stranger.me(), isUnauthenticated);
  await assert.rejects(async () => {
    for await (const _ of stranger.watch("Sm9iOjA=")) assert.fail("no update without a token");
  }, isUnauthenticated);
  await stranger.close();
});

test("an id that is not yours is NOT_FOUND, a top-level error", LIMIT, async () => {
  const unknown = Buffer.from(`Job:${randomUUID()}`).toString("base64");
  await assert.rejects(client.job(unknown), { name: "DarkroomError", code: "NOT_FOUND" });
});

test("an uploaded PNG upscales 4x from its upload id", LIMIT, async () => {
  const upload = await client.uploadImage(new Blob([png(32, 32)], { type: "image/png" }), "red.png");
  assert.equal(upload.format, "PNG");
  assert.equal(upload.width, 32);
  const { job } = await client.upscale({ imageId: upload.id });
  await finished(job.id);
  const done = await client.job(job.id);
  assert.equal(done.status, "SUCCEEDED");
  assert.equal(done.outputs[0]?.width, 128);
});

test("a file that is no image is a DarkroomInputError on the upload", LIMIT, async () => {
  const junk = new Blob([Buffer.from("not an image at all")], { type: "image/png" });
  await assert.rejects(client.uploadImage(junk), { name: "DarkroomInputError" });
});

test("a token is created with its secret once, listed, and refused once revoked", LIMIT, async () => {
  const { apiToken, secret } = await client.createApiToken({ name: `ts-${randomUUID()}`, scopes: ["READ"] });
  assert.match(secret, /^drk_/);
  const listed = await client.apiTokens();
  assert.ok(listed.some((token) => token.id === apiToken.id && token.isActive));
  const other = createClient({ url, token: secret });
  assert.equal((await other.me()).tokenScopes.join(), "READ");
  const revoked = await client.revokeApiToken(apiToken.id);
  assert.equal(revoked.isActive, false);
  await assert.rejects(other.me(), { name: "DarkroomError", code: "UNAUTHENTICATED" });
});

test("usage lists each job with its credits, and the totals add them up", LIMIT, async () => {
  const job = await client.generate({ ...TINY, seed: 7 });
  await finished(job.id);
  const page = await client.usage({ first: 100 });
  const entry = page.edges.find((edge) => edge.node.jobId === job.id)?.node;
  assert.ok(entry);
  assert.equal(entry.charged, 1);
  assert.equal(entry.source, "API");
  const totals = await client.usageTotals();
  const api = totals.filter((row) => row.source === "API");
  assert.ok(api.reduce((sum, row) => sum + row.charged, 0) >= 1);
});

test("search finds a new image by a word of its prompt, with a score", LIMIT, async () => {
  const word = `zq${randomUUID().slice(0, 8)}`;
  const job = await client.generate({ ...TINY, prompt: `a lighthouse called ${word}` });
  await finished(job.id);
  // Indexed at the job's end, off the request path: within a few seconds.
  let found: Awaited<ReturnType<typeof client.search>>["edges"] = [];
  for (let tries = 0; tries < 50 && found.length === 0; tries++) {
    found = (await client.search({ search: word, first: 5 })).edges;
    if (found.length === 0) await new Promise((resolve) => setTimeout(resolve, 200));
  }
  assert.equal(found[0]?.node.jobId, job.id);
  assert.ok((found[0]?.score ?? 0) > 1, "an exact word scores above 1");
  // node() finds that output by its global id, typed by __typename
  const node = await client.node(found[0].node.id);
  assert.equal(node.__typename, "Output");
});

test("the gallery answers without a token", LIMIT, async () => {
  const page = await createClient({ url }).gallery({ first: 5 });
  assert.ok(Array.isArray(page.edges));
  assert.equal(typeof page.pageInfo.hasNextPage, "boolean");
});

test("a webhook endpoint is created with its secret, rotated, listed and deleted", LIMIT, async () => {
  // (the test server allows loopback receivers; nothing listens on port 9)
  const { webhookEndpoint, secret } = await client.createWebhookEndpoint({
    url: "http://127.0.0.1:9/hook",
    events: ["JOB_SUCCEEDED"],
  });
  assert.match(secret, /^whsec_/);
  assert.deepEqual(webhookEndpoint.events, ["JOB_SUCCEEDED"]);
  const rotated = await client.rotateWebhookSecret(webhookEndpoint.id);
  assert.notEqual(rotated.secret, secret);
  assert.ok((await client.webhookEndpoints()).some((e) => e.id === webhookEndpoint.id));
  const deleted = await client.deleteWebhookEndpoint(webhookEndpoint.id);
  assert.equal(deleted.isActive, false);
  // a URL with credentials in it is refused, naming the field
  await assert.rejects(
    client.createWebhookEndpoint({ url: "https://user:secret@example.com/hook" }),
    (error: unknown) =>
      error instanceof DarkroomInputError && error.errors[0]?.field?.join(".") === "input.url",
  );
  const deliveries = await client.webhookDeliveries({ first: 10 });
  assert.ok(Array.isArray(deliveries.edges));
});

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`set ${name} (pytest tests/clients starts a server and does)`);
  return value;
}

/** Wait until the job has ended: watch ends after its terminal event. */
async function finished(jobId: string): Promise<void> {
  for await (const _ of client.watch(jobId)) {
    // nothing to check here; the loop ends after the terminal update
  }
}

/** A width x height PNG of one red, made by hand (no image library here). */
function png(width: number, height: number): Buffer {
  const chunk = (type: string, data: Buffer): Buffer => {
    const body = Buffer.concat([Buffer.from(type, "ascii"), data]);
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([length, body, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8); // 8-bit RGB, no interlace
  const row = Buffer.concat([Buffer.from([0]), Buffer.alloc(width * 3, Buffer.from([220, 30, 30]))]);
  const pixels = deflateSync(Buffer.concat(Array.from({ length: height }, () => row)));
  const signature = Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]);
  return Buffer.concat([signature, chunk("IHDR", header), chunk("IDAT", pixels), chunk("IEND", Buffer.alloc(0))]);
}

// Talks to the public GraphQL API at /graphql, and nothing else.
//
// Signed in, the session cookie goes with each request (same origin only), and
// so must the CSRF token the page was served with: the server refuses a cookie
// without it. Signed out (the gallery), no cookie is sent at all.
const meta = document.querySelector('meta[name="darkroom-csrf"]');
export const csrfToken = meta ? meta.content : null;
export const signedIn = csrfToken !== null;

export class GraphQLFailure extends Error {
  constructor(errors) {
    super(errors.map((e) => e.message).join("; "));
    this.errors = errors;
    this.code = errors[0]?.extensions?.code;
  }
}

export async function gql(query, variables = {}) {
  const headers = { "Content-Type": "application/json", Accept: "application/json" };
  if (signedIn) headers["X-CSRF-Token"] = csrfToken;
  const response = await fetch("/graphql", {
    method: "POST",
    headers,
    credentials: signedIn ? "same-origin" : "omit",
    body: JSON.stringify({ query, variables }),
  });
  let body;
  try {
    body = await response.json();
  } catch {
    throw new Error(`the API answered ${response.status} without a GraphQL body`);
  }
  if (body.errors && body.errors.length) throw new GraphQLFailure(body.errors);
  return body.data;
}

// One subscription over graphql-transport-ws. The browser sends the cookie with
// the handshake (the server checks its Origin); connection_init carries the
// CSRF token. Returns a function that stops it.
export function subscribe(query, variables, { next, error, complete }) {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const socket = new WebSocket(`${scheme}//${location.host}/graphql`, "graphql-transport-ws");
  let done = false;
  const finish = () => {
    if (!done) {
      done = true;
      complete && complete();
    }
  };
  socket.onopen = () => {
    socket.send(JSON.stringify({ type: "connection_init", payload: { csrfToken } }));
  };
  socket.onmessage = (event) => {
    const message = JSON.parse(event.data);
    if (message.type === "connection_ack") {
      socket.send(
        JSON.stringify({ id: "1", type: "subscribe", payload: { query, variables } }),
      );
    } else if (message.type === "ping") {
      socket.send(JSON.stringify({ type: "pong" }));
    } else if (message.type === "next") {
      if (message.payload.errors) error && error(new GraphQLFailure(message.payload.errors));
      else next(message.payload.data);
    } else if (message.type === "error") {
      error && error(new GraphQLFailure(message.payload));
      done = true;
    } else if (message.type === "complete") {
      finish();
      socket.close(1000);
    }
  };
  socket.onclose = (event) => {
    if (!done && event.code !== 1000) {
      done = true;
      error && error(new Error(`the live updates closed (${event.code} ${event.reason})`));
    }
  };
  return () => {
    done = true;
    if (socket.readyState === WebSocket.OPEN) {
      socket.send(JSON.stringify({ id: "1", type: "complete" }));
      socket.close(1000);
    }
  };
}

// "Sign out" and "sign out everywhere": plain HTTP beside the API, with the
// same origin and CSRF checks.
export async function signOut(everywhere) {
  await fetch("/console/logout", {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRF-Token": csrfToken },
    body: JSON.stringify({ everywhere }),
  });
  location.assign("/console/gallery");
}

// The HTTP API, as Recce's wire contract defines it. Errors carry the server's message.

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

async function request(method, path, body) {
  const init = { method, headers: {} };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch (err) {
    throw new ApiError(0, `The server did not answer (${err.message}).`);
  }
  const text = await response.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = text;
    }
  }
  if (!response.ok) {
    // FastAPI-style {detail}, the readiness gate's {error}, or plain text.
    const message =
      (data && typeof data === "object" && (data.detail ?? data.error)) ||
      (typeof data === "string" && data) ||
      `${method} ${path} failed with HTTP ${response.status}`;
    throw new ApiError(response.status, typeof message === "string" ? message : JSON.stringify(message));
  }
  return data;
}

export const api = {
  health: () => request("GET", "/api/health"),
  info: () => request("GET", "/api/info"),
  select: (params) => request("POST", "/api/select", params),
  checks: () => request("GET", "/api/checks"),
  createCheck: (body) => request("POST", "/api/checks", body),
  updateCheck: (id, body) => request("PATCH", `/api/checks/${encodeURIComponent(id)}`, body),
  deleteCheck: (id) => request("DELETE", `/api/checks/${encodeURIComponent(id)}`),
  reorderChecks: (source, destination) =>
    request("POST", "/api/checks/reorder", { source, destination }),
};

export const runsApi = {
  list: () => request("GET", "/api/runs"),
  get: (id, timeout = 0) => request("GET", `/api/runs/${encodeURIComponent(id)}/wait?timeout=${timeout}`),
  submit: (type, params) => request("POST", "/api/runs", { type, params, nowait: true }),
  aggregate: () => request("POST", "/api/runs/aggregate", {}),
  cancel: (id) => request("POST", `/api/runs/${encodeURIComponent(id)}/cancel`),
  runCheck: (checkId) => request("POST", `/api/checks/${encodeURIComponent(checkId)}/run`, { nowait: true }),
  model: (id) => request("GET", `/api/models/${encodeURIComponent(id)}`),
};

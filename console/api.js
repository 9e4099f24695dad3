// Calls to the REST API with the signed-in key. The key lives in this tab's
// sessionStorage only: it is gone when the tab closes and never shared with
// other tabs or written to disk by the page.

const STORE = 'performchat.console.key';

export function currentKey() {
  try {
    const raw = sessionStorage.getItem(STORE);
    return raw ? JSON.parse(raw) : null;
  } catch {
    return null;
  }
}

export function remember(key) {
  sessionStorage.setItem(STORE, JSON.stringify(key));
}

export function forget() {
  sessionStorage.removeItem(STORE);
}

// Which permission each kind of call needs, so a refusal can name it (the
// server answers a bare "Insufficient permissions").
function permissionFor(method, path) {
  if (path.startsWith('/auth/')) return 'chat:send';
  if (path.startsWith('/conversations')) return 'conversations:read';
  if (path.startsWith('/customer-users') || path.startsWith('/stats')) {
    return method === 'GET' ? 'users:read' : 'users:write';
  }
  if (path.startsWith('/knowledge')) return method === 'GET' ? 'knowledge:read' : 'knowledge:write';
  // Reads included: an endpoint's URL and log are integration settings (docs/API.md §11.3).
  if (path.startsWith('/webhooks')) return 'webhooks:write';
  if (path.startsWith('/agents')) return 'agents:read';
  return null;
}

export class ApiError extends Error {
  constructor(status, message, permission) {
    super(message);
    this.status = status;
    this.permission = permission;
  }

  get refused() {
    return this.status === 401 && this.permission !== null;
  }
}

// `body` is JSON, or a FormData sent as multipart/form-data (the browser
// writes its Content-Type with the boundary).
export async function api(method, path, body, key = currentKey()) {
  const headers = { 'X-Api-Key-Id': key?.id ?? '', 'X-Api-Key-Secret': key?.secret ?? '' };
  const form = body instanceof FormData;
  if (body !== undefined && !form) headers['Content-Type'] = 'application/json';
  const res = await fetch('/rest/v1' + path, {
    method,
    headers,
    body: body === undefined || form ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let data = null;
  try {
    data = JSON.parse(text);
  } catch {
    data = null;
  }
  if (!res.ok) {
    const message = data?.message ?? `${res.status} ${res.statusText}`;
    if (res.status === 401 && message === 'Insufficient permissions') {
      const needed = permissionFor(method, path);
      throw new ApiError(401, `This key lacks the ${needed} permission.`, needed);
    }
    throw new ApiError(res.status, message, null);
  }
  return data;
}

// What the key may do, found by harmless calls: a refusal names a missing
// permission; any other answer (even "not found") means the key holds it.
export async function probe(key) {
  const may = async (method, path, body) => {
    try {
      await api(method, path, body, key);
      return true;
    } catch (e) {
      if (e.refused) return false;
      if (e.status === 401) throw e;
      return true;
    }
  };
  const [usersRead, usersWrite, chatSend, conversationsRead, knowledgeRead, knowledgeWrite, webhooksWrite, agentsRead] =
    await Promise.all([
      may('GET', '/customer-users/stats'),
      may('PUT', '/customer-users/cu_console_probe', {}),
      may('POST', '/auth/invalidate-token', { customerUserId: 'cu_console_probe' }),
      may('GET', '/conversations?limit=1'),
      may('GET', '/knowledge/documents?limit=1'),
      // A document id that cannot exist: 404 when the key may delete, 401 when not.
      may('DELETE', '/knowledge/documents/doc_console_probe'),
      may('GET', '/webhooks'),
      may('GET', '/agents?limit=1'),
    ]);
  return { usersRead, usersWrite, chatSend, conversationsRead, knowledgeRead, knowledgeWrite, webhooksWrite, agentsRead };
}

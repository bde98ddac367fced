// The gateway's public HTTP API as the page uses it: JSON requests with the signed-in user's token, the chat's
// server-sent events, and every failure turned into a sentence a person can act on.

const TOKEN_KEY = 'cobalt.token';

export function token() {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function setToken(value) {
  if (value) {
    sessionStorage.setItem(TOKEN_KEY, value);
  } else {
    sessionStorage.removeItem(TOKEN_KEY);
  }
}

/** A failed request: the HTTP status, the API's error code, and the words to show. */
export class ApiFailure extends Error {
  constructor(status, code, words) {
    super(words);
    this.status = status;
    this.code = code;
  }
}

function headers(extra) {
  const h = { Accept: 'application/json', ...extra };
  const t = token();
  if (t) {
    h.Authorization = `Bearer ${t}`;
  }
  return h;
}

/** A JSON request; resolves to the parsed body (null for 204), rejects with an ApiFailure. */
export async function request(method, path, body) {
  let response;
  try {
    response = await fetch(path, {
      method,
      headers: headers(body === undefined ? {} : { 'Content-Type': 'application/json' }),
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    throw new ApiFailure(0, 'network', 'The gateway cannot be reached. Check your connection and try again.');
  }
  if (!response.ok) {
    throw await failureOf(response);
  }
  return response.status === 204 ? null : response.json();
}

/** The ApiFailure for an error response, in words. */
export async function failureOf(response) {
  let code = 'unknown';
  let message = '';
  try {
    const body = await response.json();
    code = body?.error?.code ?? code;
    message = body?.error?.message ?? '';
  } catch (e) {
    // not JSON: the status alone says what happened
  }
  return new ApiFailure(response.status, code, words(response.status, code, message,
    response.headers.get('Retry-After')));
}

/** "in 42 seconds", "in 3 minutes", "in 2 h 5 min". */
export function waitWords(retryAfter) {
  const s = Number.parseInt(retryAfter, 10);
  if (!Number.isFinite(s) || s < 0) {
    return 'in a moment';
  }
  if (s < 90) {
    return `in ${s} second${s === 1 ? '' : 's'}`;
  }
  if (s < 3600) {
    return `in ${Math.ceil(s / 60)} minutes`;
  }
  const h = Math.floor(s / 3600);
  const m = Math.ceil((s % 3600) / 60);
  return `in ${h} h ${m} min`;
}

function words(status, code, message, retryAfter) {
  const when = waitWords(retryAfter);
  switch (code) {
    case 'rate_limit_exceeded':
      return `You have sent too many messages this minute. Try again ${when}.`;
    case 'daily_quota_exceeded':
      return `You have used today's message quota. Try again ${when}.`;
    case 'concurrent_streams_exceeded':
      return `Too many of your answers are streaming at once. Try again ${when}.`;
    case 'rate_limited':
      return `Every model provider is rate limiting the gateway. Try again ${when}.`;
    case 'provider_unavailable':
      return 'No model provider can answer right now (the gateway tried the primary and the fallback). Try again shortly.';
    case 'overloaded':
      return `The gateway is busy with other chats. Try again ${when}.`;
    case 'shutting_down':
      return 'The gateway is restarting. Try again in a few seconds.';
    case 'auth_unavailable':
      return 'Your sign-in cannot be checked right now (the identity provider is unreachable). Try again shortly.';
    case 'missing_token':
      return 'Sign in to continue.';
    case 'token_expired':
      return 'Your token has expired. Paste a new one to sign in again.';
    case 'invalid_token':
      return `The token was refused: ${message}`;
    case 'forbidden':
      return 'This needs the operator role.';
    case 'session_not_found':
      return 'This chat no longer exists.';
    default:
      break;
  }
  if (status === 429) {
    return `Too many requests. Try again ${when}.`;
  }
  if (status === 503) {
    return `The service is unavailable. Try again ${retryAfter ? when : 'shortly'}.`;
  }
  return message ? `${message}.`.replace(/\.\.$/, '.') : `The request failed (HTTP ${status}).`;
}

/** Words for an SSE error event that ended an answer after it began. */
export function streamErrorWords(error) {
  switch (error?.code) {
    case 'stream_interrupted':
    case 'malformed_stream':
      return 'The answer broke off: the provider\'s stream ended early. The part you see is kept.';
    case 'stream_idle_timeout':
      return 'The answer broke off: the provider stopped sending. The part you see is kept.';
    case 'provider_stream_error':
      return 'The answer broke off: the provider reported an error in the middle of it. The part you see is kept.';
    case 'malformed_chunk':
      return 'The answer broke off: the provider sent something that could not be read. The part you see is kept.';
    case 'session_deleted':
      return 'The chat was deleted while its answer streamed; the answer was not stored.';
    case 'answer_not_stored':
      return 'The answer could not be stored; it is not in the chat.';
    case 'shutting_down':
      return 'The gateway restarted while answering. The part you see is kept.';
    default: {
      // the gateway's own sentence, run on after the colon: "The provider's ..." -> "the provider's ...", one stop
      const said = (error?.message ?? 'unknown error').replace(/\.$/, '');
      return `The answer broke off: ${said.charAt(0).toLowerCase()}${said.slice(1)}.`;
    }
  }
}

/**
 * Sends a chat message and reads the answer's server-sent events, calling onEvent({content, reasoning}) for each
 * delta. Resolves to {outcome: 'complete' | 'stopped' | 'error', words?, finishReason?, model?} - model: the one that
 * answered (X-Cobalt-Model; after a fallback, the fallback's); a refusal before the stream (4xx/5xx) rejects with an
 * ApiFailure.
 */
export async function streamMessage(sessionId, content, signal, onEvent) {
  let response;
  try {
    response = await fetch(`/api/v1/chat/sessions/${encodeURIComponent(sessionId)}/messages`, {
      method: 'POST',
      headers: headers({ 'Content-Type': 'application/json', Accept: 'text/event-stream' }),
      body: JSON.stringify({ content }),
      signal,
    });
  } catch (e) {
    if (signal.aborted) {
      return { outcome: 'stopped' };
    }
    throw new ApiFailure(0, 'network', 'The gateway cannot be reached. Check your connection and try again.');
  }
  if (!response.ok) {
    throw await failureOf(response);
  }
  const model = response.headers.get('X-Cobalt-Model') ?? undefined;
  return { ...await readAnswer(response, signal, onEvent), model };
}

/** The answer's events, read to its end: {outcome, words?, finishReason?}. */
async function readAnswer(response, signal, onEvent) {
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  let eventName = 'message';
  let data = [];
  let finishReason = null;
  const dispatch = () => {
    if (data.length === 0) {
      eventName = 'message';
      return null;
    }
    const text = data.join('\n');
    const name = eventName;
    data = [];
    eventName = 'message';
    if (text === '[DONE]') {
      return { outcome: 'complete', finishReason };
    }
    let json;
    try {
      json = JSON.parse(text);
    } catch (e) {
      return { outcome: 'error', words: 'The answer broke off: the gateway sent something that is not an event.' };
    }
    if (name === 'error' || json.error) {
      return { outcome: 'error', words: streamErrorWords(json.error) };
    }
    if (json.done) {
      finishReason = json.finish_reason ?? null;
    }
    if (json.content || json.reasoning) {
      onEvent({ content: json.content ?? '', reasoning: json.reasoning ?? '' });
    }
    return null;
  };
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) {
        break;
      }
      buffer += value;
      let nl;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl).replace(/\r$/, '');
        buffer = buffer.slice(nl + 1);
        if (line === '') {
          const end = dispatch();
          if (end) {
            reader.cancel().catch(() => {});
            return end;
          }
        } else if (line.startsWith('event:')) {
          eventName = line.slice(6).trim();
        } else if (line.startsWith('data:')) {
          data.push(line.slice(5).replace(/^ /, ''));
        }
      }
    }
  } catch (e) {
    if (signal.aborted) {
      return { outcome: 'stopped' };
    }
    return { outcome: 'error', words: 'The answer broke off: the connection to the gateway was lost.' };
  }
  const last = dispatch();
  if (last) {
    return last;
  }
  return { outcome: 'error', words: 'The answer broke off: the stream ended before the answer was finished.' };
}

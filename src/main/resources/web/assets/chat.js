// The chat view: the user's sessions (paged), a new chat with a model picker, the answer streamed as Markdown,
// reasoning folded, stop, delete, errors in words.
import { ApiFailure, request, streamMessage } from './api.js';
import { renderMarkdown } from './render.js';

const $ = (id) => document.getElementById(id);
const PAGE = 20;

const state = {
  session: null, // {id, title, model}
  sessionsCursor: null,
  messagesCursor: null,
  streaming: null, // AbortController of the answer being streamed
  afterStream: null, // what to do once that answer's send() has ended (the open chat was deleted meanwhile)
  onAuthFailure: () => {},
};

function showError(words) {
  const el = $('chat-error');
  el.textContent = words ?? '';
  el.hidden = !words;
}

function failureWords(e) {
  if (e instanceof ApiFailure) {
    if (e.status === 401) {
      state.onAuthFailure(e.message);
    }
    return e.message;
  }
  return `Something went wrong in the page: ${e?.message ?? e}`;
}

const STATUS_WORDS = {
  cancelled: 'Stopped',
  interrupted: 'Broke off',
  failed: 'Failed',
  content_filtered: 'Filtered by the provider',
  length: 'Cut off at the length limit',
  streaming: 'Still streaming',
};

function messageElement(role) {
  const li = document.createElement('article');
  li.className = `message ${role}`;
  const who = document.createElement('header');
  who.className = 'who';
  who.textContent = role === 'user' ? 'You' : 'Assistant';
  li.append(who);
  $('messages').append(li);
  $('empty').hidden = true;
  return li;
}

function addUserMessage(text, before) {
  const el = messageElement('user');
  const body = document.createElement('div');
  body.className = 'body text';
  body.textContent = text;
  el.append(body);
  if (before) {
    before.before(el);
  }
  return el;
}

function addAssistantMessage(text, status, model, before) {
  const el = messageElement('assistant');
  const reasoning = document.createElement('details');
  reasoning.className = 'reasoning';
  reasoning.hidden = true;
  const summary = document.createElement('summary');
  summary.textContent = 'Reasoning';
  const reasoningText = document.createElement('div');
  reasoningText.className = 'text';
  reasoning.append(summary, reasoningText);
  const body = document.createElement('div');
  body.className = 'body markdown';
  renderMarkdown(body, text);
  const meta = document.createElement('footer');
  meta.className = 'meta';
  setMeta(meta, status, model);
  el.append(reasoning, body, meta);
  if (before) {
    before.before(el);
  }
  return { el, body, reasoning, reasoningText, meta };
}

function setMeta(meta, status, model) {
  const parts = [];
  if (status && STATUS_WORDS[status]) {
    parts.push(STATUS_WORDS[status]);
  }
  if (model) {
    parts.push(model);
  }
  meta.textContent = parts.join(' · ');
  meta.dataset.status = status ?? '';
}

function clearMessages() {
  for (const el of [...$('messages').querySelectorAll('.message')]) {
    el.remove();
  }
  $('empty').hidden = false;
  $('earlier-messages').hidden = true;
}

// --- models ------------------------------------------------------------------------------------------------

async function loadModels() {
  const select = $('model');
  try {
    const models = await request('GET', '/api/v1/models');
    select.replaceChildren();
    for (const m of models.models) {
      const option = document.createElement('option');
      option.value = m.id;
      option.textContent = m.available ? m.id : `${m.id} (unavailable now)`;
      option.selected = m.id === models.default_model;
      select.append(option);
    }
  } catch (e) {
    showError(failureWords(e));
  }
}

// --- sessions ------------------------------------------------------------------------------------------------

function sessionItem(s) {
  const li = document.createElement('li');
  li.dataset.id = s.id;
  const open = document.createElement('button');
  open.type = 'button';
  open.className = 'session-open';
  open.textContent = s.title || 'Untitled chat';
  open.title = s.title || 'Untitled chat';
  openable(open, !state.streaming);
  open.addEventListener('click', () => openSession(s.id));
  const del = document.createElement('button');
  del.type = 'button';
  del.className = 'session-delete';
  del.textContent = '×';
  del.setAttribute('aria-label', `Delete chat ${s.title || 'Untitled chat'}`);
  del.addEventListener('click', () => deleteSession(s.id, s.title));
  li.append(open, del);
  if (state.session?.id === s.id) {
    li.classList.add('current');
  }
  return li;
}

export async function loadSessions(more = false) {
  const query = new URLSearchParams({ limit: String(PAGE) });
  if (more && state.sessionsCursor) {
    query.set('cursor', state.sessionsCursor);
  }
  const page = await request('GET', `/api/v1/chat/sessions?${query}`);
  const list = $('sessions');
  if (!more) {
    list.replaceChildren();
  }
  for (const s of page.sessions) {
    list.append(sessionItem(s));
  }
  state.sessionsCursor = page.next_cursor;
  $('more-sessions').hidden = !page.next_cursor;
  return page;
}

function markCurrent() {
  for (const li of $('sessions').children) {
    li.classList.toggle('current', li.dataset.id === state.session?.id);
  }
}

async function openSession(id) {
  if (state.streaming) {
    return;
  }
  showError(null);
  try {
    const detail = await request('GET', `/api/v1/chat/sessions/${encodeURIComponent(id)}?messages_limit=50`);
    state.session = { id: detail.id, title: detail.title, model: detail.model };
    clearMessages();
    showMessages(detail.messages, null);
    state.messagesCursor = detail.next_cursor;
    $('earlier-messages').hidden = !detail.next_cursor;
    pickModel(detail.model);
    markCurrent();
    closeSidebar();
    scrollToEnd();
    $('message').focus();
  } catch (e) {
    showError(failureWords(e));
    if (e instanceof ApiFailure && e.status === 404) {
      loadSessions().catch(() => {});
    }
  }
}

/**
 * The chat this page created for a first message that was refused before anything was stored (too long, a limit
 * reached): deleted again, so the list keeps no empty chat; the text stays in the composer for another try.
 */
async function dropIfEmpty(id) {
  try {
    const detail = await request('GET', `/api/v1/chat/sessions/${encodeURIComponent(id)}?messages_limit=1`);
    if (detail.messages.length === 0) {
      await request('DELETE', `/api/v1/chat/sessions/${encodeURIComponent(id)}`);
      $('sessions').querySelector(`li[data-id="${CSS.escape(id)}"]`)?.remove();
      state.session = null;
      state.messagesCursor = null;
      clearMessages();
      $('model').disabled = false;
      return true;
    }
  } catch (e) {
    // the chat stays; the refusal is what the user is told about
  }
  return false;
}

/**
 * The open chat shown again as the gateway stored it, after a message was refused: a refusal before anything was
 * stored (a limit, a token, a chat deleted meanwhile) leaves no trace of the message but the composer's text, and one
 * after the message was stored (no provider could answer) shows it with its failed answer, as a reload would.
 */
async function showStored(id) {
  try {
    const detail = await request('GET', `/api/v1/chat/sessions/${encodeURIComponent(id)}?messages_limit=50`);
    if (state.session?.id !== id) {
      return;
    }
    clearMessages();
    showMessages(detail.messages, null);
    state.messagesCursor = detail.next_cursor;
    $('earlier-messages').hidden = !detail.next_cursor;
    scrollToEnd();
  } catch (e) {
    // the page keeps what it shows; the refusal is what the user is told about
  }
}

function showMessages(messages, before) {
  for (const m of messages) {
    if (m.role === 'user') {
      addUserMessage(m.content, before);
    } else if (m.role === 'assistant') {
      // a complete answer the length limit cut says so; its reasoning, stored beside it, shows as it did live
      const status = m.status === 'complete' && m.finish_reason === 'length' ? 'length' : m.status;
      const answer = addAssistantMessage(m.content, status, m.model, before);
      if (m.reasoning) {
        answer.reasoningText.textContent = m.reasoning;
        answer.reasoning.hidden = false;
      }
    }
  }
}

async function earlierMessages() {
  if (!state.session || !state.messagesCursor) {
    return;
  }
  try {
    const query = new URLSearchParams({ messages_limit: '50', messages_cursor: state.messagesCursor });
    const detail = await request('GET', `/api/v1/chat/sessions/${encodeURIComponent(state.session.id)}?${query}`);
    const box = $('messages');
    const first = box.querySelector('.message');
    // the reader stays where they were: what they read keeps its place, the earlier messages come in above it (the
    // view jumped to the oldest one loaded)
    const fromEnd = box.scrollHeight - box.scrollTop;
    showMessages(detail.messages, first);
    box.scrollTop = box.scrollHeight - fromEnd;
    state.messagesCursor = detail.next_cursor;
    $('earlier-messages').hidden = !detail.next_cursor;
  } catch (e) {
    showError(failureWords(e));
  }
}

function pickModel(model) {
  const select = $('model');
  if (model && ![...select.options].some((o) => o.value === model)) {
    const option = document.createElement('option');
    option.value = model;
    option.textContent = model;
    select.append(option);
  }
  if (model) {
    select.value = model;
  }
  select.disabled = true;
}

function newChat() {
  if (state.streaming) {
    return;
  }
  state.session = null;
  state.messagesCursor = null;
  clearMessages();
  showError(null);
  $('model').disabled = false;
  markCurrent();
  closeSidebar();
  $('message').focus();
}

async function deleteSession(id, title) {
  if (!window.confirm(`Delete the chat "${title || 'Untitled chat'}" and its messages?`)) {
    return;
  }
  try {
    await request('DELETE', `/api/v1/chat/sessions/${encodeURIComponent(id)}`);
    $('sessions').querySelector(`li[data-id="${CSS.escape(id)}"]`)?.remove();
    if (state.session?.id === id) {
      if (state.streaming) {
        // its answer is not stored (the chat is gone): the stream ends now, and the deleted chat leaves the screen
        // once send() has finished with it (it stayed, and the next message went to a chat that no longer exists)
        state.afterStream = newChat;
        state.streaming.abort();
      } else {
        newChat();
      }
    }
  } catch (e) {
    showError(failureWords(e));
  }
}

// --- sending -------------------------------------------------------------------------------------------------

function setStreaming(controller) {
  state.streaming = controller;
  $('send').hidden = !!controller;
  $('stop').hidden = !controller;
  $('new-chat').disabled = !!controller;
  for (const open of $('sessions').querySelectorAll('.session-open')) {
    openable(open, !controller);
  }
}

/**
 * The page streams one answer at a time into the chat on screen, so another chat opens only once it has ended: its
 * button says so instead of ignoring the click (a click did nothing, without a word).
 */
function openable(button, yes) {
  button.disabled = !yes;
  button.title = yes ? button.textContent : `${button.textContent} (opens once the answer has ended, or after Stop)`;
}

function scrollToEnd() {
  const box = $('messages');
  box.scrollTop = box.scrollHeight;
}

async function send() {
  const input = $('message');
  const text = input.value;
  if (!text.trim() || state.streaming) {
    return;
  }
  showError(null);
  const controller = new AbortController();
  setStreaming(controller);
  let createdNow = false;
  try {
    if (!state.session) {
      createdNow = true;
      const model = $('model').value;
      // 60 characters, not UTF-16 units: a cut through an emoji would leave half of it (shown as U+FFFD)
      const title = Array.from(text.trim().replace(/\s+/g, ' ')).slice(0, 60).join('');
      const created = await request('POST', '/api/v1/chat/sessions', model ? { title, model } : { title });
      state.session = { id: created.id, title: created.title, model: created.model };
      pickModel(created.model);
      // listed (newest first) and marked now, not once its first answer has ended: the list is read again only then
      $('sessions').prepend(sessionItem(created));
      markCurrent();
    }
    const sessionId = state.session.id;
    input.value = '';
    const question = addUserMessage(text);
    const answer = addAssistantMessage('', 'streaming', null);
    answer.el.classList.add('live');
    let content = '';
    let reasoning = '';
    let pending = false;
    const paint = () => {
      pending = false;
      renderMarkdown(answer.body, content);
      answer.reasoningText.textContent = reasoning;
      answer.reasoning.hidden = !reasoning;
      scrollToEnd();
    };
    scrollToEnd();
    let result;
    try {
      result = await streamMessage(sessionId, text, controller.signal, (delta) => {
        content += delta.content;
        reasoning += delta.reasoning;
        if (!pending) {
          pending = true;
          // every paint parses and sanitises the whole answer: a long one is painted less often, so the page stays
          // responsive (a 500 KB answer painted every frame froze it for seconds); the last paint follows the end
          const wait = content.length < 20000 ? 0 : Math.min(1000, content.length / 100);
          if (wait === 0) {
            requestAnimationFrame(paint);
          } else {
            setTimeout(() => requestAnimationFrame(paint), wait);
          }
        }
      });
    } catch (e) {
      // refused before its answer began: the message is not shown as sent (it may not be stored at all), the text
      // goes back to the composer, and the chat shows what the gateway kept of it
      answer.el.remove();
      question.remove();
      if (!$('messages').querySelector('.message')) {
        $('empty').hidden = false;
      }
      input.value = text;
      if (e instanceof ApiFailure && e.code === 'session_not_found' && state.session?.id === sessionId) {
        // deleted meanwhile (from another tab): its messages go, and the next send starts a new chat with the text
        state.session = null;
        state.messagesCursor = null;
        clearMessages();
        $('model').disabled = false;
        throw e;
      }
      const dropped = createdNow && await dropIfEmpty(sessionId);
      if (!dropped && !(e instanceof ApiFailure && e.status === 401)) {
        await showStored(sessionId);
      }
      throw e;
    }
    paint();
    answer.el.classList.remove('live');
    if (result.outcome === 'complete') {
      const ended = { content_filter: 'content_filtered', length: 'length' }[result.finishReason] ?? 'complete';
      setMeta(answer.meta, ended, result.model ?? state.session.model);
      answer.el.dataset.outcome = 'complete';
    } else if (result.outcome === 'stopped') {
      setMeta(answer.meta, 'cancelled', result.model ?? state.session.model);
      answer.el.dataset.outcome = 'stopped';
    } else {
      setMeta(answer.meta, 'interrupted', result.model ?? state.session.model);
      answer.el.dataset.outcome = 'error';
      showError(result.words);
    }
  } catch (e) {
    showError(failureWords(e));
  } finally {
    setStreaming(null);
    const after = state.afterStream;
    state.afterStream = null;
    after?.();
    loadSessions().then(markCurrent).catch(() => {});
    input.focus();
  }
}

function stop() {
  state.streaming?.abort();
}

/**
 * Forgets the chat shown, the list and the composer's text: on signing out, and before another user's chats are
 * shown in this tab (they kept the previous user's open conversation on screen).
 */
export function resetChat() {
  state.streaming?.abort();
  state.session = null;
  state.sessionsCursor = null;
  state.messagesCursor = null;
  clearMessages();
  $('sessions').replaceChildren();
  $('more-sessions').hidden = true;
  $('model').disabled = false;
  $('message').value = '';
  showError(null);
}

// --- the phone's sessions drawer -----------------------------------------------------------------------------

function closeSidebar() {
  $('sidebar').classList.remove('open');
  $('sessions-toggle').setAttribute('aria-expanded', 'false');
}

function toggleSidebar() {
  const open = $('sidebar').classList.toggle('open');
  $('sessions-toggle').setAttribute('aria-expanded', String(open));
}

export async function startChat(onAuthFailure) {
  state.onAuthFailure = onAuthFailure;
  $('composer').addEventListener('submit', (e) => {
    e.preventDefault();
    send();
  });
  $('message').addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      send();
    }
  });
  $('stop').addEventListener('click', stop);
  $('new-chat').addEventListener('click', newChat);
  $('more-sessions').addEventListener('click', () => loadSessions(true).catch((e) => showError(failureWords(e))));
  $('earlier-messages').addEventListener('click', earlierMessages);
  $('sessions-toggle').addEventListener('click', toggleSidebar);
  await loadModels();
}

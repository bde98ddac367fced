// The page's entry: sign in (a pasted JWT, or straight in when the gateway runs without authentication), then the
// chat view at #chat and, for operators, the operator view at #operator.
import { ApiFailure, request, setToken, token } from './api.js';
import { loadSessions, resetChat, startChat } from './chat.js';

const $ = (id) => document.getElementById(id);
let operator = null; // the operator module, loaded for operators only
let isOperator = false;
let started = false;
let shownFor = null; // the user (the token's sub) whose chats the page shows

/** The token's subject, read without checking it (the gateway checks): whose chats the page is about to show. */
function subjectOf(jwt) {
  try {
    const part = jwt.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    return JSON.parse(atob(part)).sub ?? null;
  } catch (e) {
    return null;
  }
}

function show(view) {
  for (const id of ['loading', 'sign-in', 'chat', 'operator']) {
    $(id).hidden = id !== view;
  }
  $('nav').hidden = view === 'sign-in' || view === 'loading';
  $('sessions-toggle').hidden = view !== 'chat';
  $('nav-chat').classList.toggle('active', view === 'chat');
  $('nav-operator').classList.toggle('active', view === 'operator');
  document.body.dataset.view = view;
}

function signInPage(words) {
  operator?.stop();
  show('sign-in');
  $('sign-in-error').textContent = words ?? '';
  $('sign-in-error').hidden = !words;
  $('sign-out').hidden = true;
  $('token').focus();
}

async function route() {
  if (location.hash === '#operator' && isOperator) {
    if (!operator) {
      operator = await import('./operator.js');
    }
    show('operator');
    operator.start(signInPage);
  } else {
    operator?.stop();
    show('chat');
    // ready to type, on load and after signing in (the focus was left on the page or the hidden sign-in form, so
    // a keyboard user tabbed through the whole chat list to reach the composer); a focus in the view stays
    if (document.activeElement === document.body || $('sign-in').contains(document.activeElement)) {
      $('message').focus();
    }
  }
}

async function enter() {
  const used = token();
  const who = used ? subjectOf(used) : null;
  // another user in this tab (the last one's token expired): nothing of theirs stays on screen
  if (shownFor !== null && who !== shownFor) {
    resetChat();
  }
  let me;
  try {
    // who is calling, first: without a token (where one is needed) the answer is "not signed in", not a refusal,
    // and an operator is told by the answer, not by a 403 from the operator's endpoint (no failed request in the
    // browser's console on a first load)
    me = await request('GET', '/api/v1/me');
    if (!me.signed_in) {
      signInPage(null);
      return;
    }
    await loadSessions();
    shownFor = who;
  } catch (e) {
    if (e instanceof ApiFailure && e.status === 401) {
      // forget the refused token (not one stored meanwhile, e.g. by another sign-in)
      if (used && token() === used) {
        setToken(null);
      }
      signInPage(used || e.code !== 'missing_token' ? e.message : null);
      return;
    }
    show('sign-in');
    $('sign-in-error').textContent = e.message;
    $('sign-in-error').hidden = false;
    return;
  }
  // signed in (again): a refusal shown before, such as the expired token that sent the user to sign in, is over
  $('chat-error').textContent = '';
  $('chat-error').hidden = true;
  $('sign-out').hidden = !token();
  if (!started) {
    started = true;
    await startChat(signInPage);
  }
  isOperator = me.operator === true;
  $('nav-operator').hidden = !isOperator;
  await route();
  // how long from navigation until the user can chat (read by the page-load test)
  if (performance.getEntriesByName('cobalt-ready').length === 0) {
    performance.mark('cobalt-ready');
  }
}

$('sign-in-form').addEventListener('submit', (e) => {
  e.preventDefault();
  // a JWT has no white space: a line break is the terminal or the mail that wrapped it (sent in a header, it made
  // the browser refuse the request, which the page told as "the gateway cannot be reached")
  const value = $('token').value.trim().replace(/^Bearer\s+/i, '').replace(/\s+/g, '');
  if (!value) {
    return;
  }
  if (!/^[A-Za-z0-9_.=+/-]+$/.test(value)) {
    signInPage('This is not a token: a JSON Web Token is letters, digits, "-" and "_" in three parts separated by'
      + ' dots, with no quotes or other characters around it.');
    return;
  }
  setToken(value);
  $('token').value = '';
  enter();
});

$('sign-out').addEventListener('click', () => {
  setToken(null);
  resetChat();
  shownFor = null;
  location.hash = '';
  signInPage('Signed out.');
});

window.addEventListener('hashchange', route);

enter();

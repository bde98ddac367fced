// Model output to safe HTML: Markdown (marked) with any raw HTML in it shown as text, then sanitised (DOMPurify),
// so neither a model nor a user can make the page run script. The page's Content-Security-Policy is the last line.
import { Marked } from './lib/marked.js';
import DOMPurify from './lib/purify.js';

function escapeHtml(text) {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

const markdown = new Marked({
  gfm: true,
  breaks: true,
  renderer: {
    // HTML inside the Markdown (a block or inline tag) is text to show, not markup to run
    html({ text }) {
      return escapeHtml(text);
    },
    // the page shows no images (a model's image URL would be fetched by the reader's browser): a link to it,
    // named by its alt text, instead of nothing at all
    // a task list's boxes are inputs, which the sanitiser removes, and "- [x] done" read like "- [ ] to do": the box
    // is shown as a character instead
    checkbox({ checked }) {
      return checked ? '\u2611 ' : '\u2610 ';
    },
    image({ href, text }) {
      return `<a href="${escapeHtml(href ?? '')}">${escapeHtml(text || href || 'image')}</a>`;
    },
  },
});

DOMPurify.addHook('afterSanitizeAttributes', (node) => {
  if (node.tagName === 'A') {
    node.setAttribute('target', '_blank');
    node.setAttribute('rel', 'noopener noreferrer');
  }
});

const POLICY = {
  USE_PROFILES: { html: true },
  FORBID_TAGS: ['style', 'form', 'input', 'button', 'textarea', 'select', 'img', 'svg', 'math'],
  FORBID_ATTR: ['style', 'class', 'id'],
  ALLOWED_URI_REGEXP: /^(?:https?:|mailto:|#)/i,
};

/** The sanitised HTML of a Markdown answer. */
export function markdownHtml(text) {
  return DOMPurify.sanitize(markdown.parse(text ?? ''), POLICY);
}

/**
 * Renders a Markdown answer into an element. Text the Markdown parser cannot take (marked overflows its stack on a
 * few thousand nested quotes, which a model can be made to write) is shown as it is, as plain text, so the answer
 * still ends and the rest of the chat still shows.
 */
export function renderMarkdown(element, text) {
  let html;
  try {
    html = markdownHtml(text);
  } catch (e) {
    element.classList.add('plain');
    element.textContent = text ?? '';
    return;
  }
  element.classList.remove('plain');
  element.innerHTML = html;
}

// Markdown for text fields with `format = "markdown"`, rendered by building DOM nodes with
// h(): the text never becomes HTML, and only http, https and mailto links are made (others
// stay text). The common subset: headings, paragraphs, emphasis, strong, code spans and
// fenced blocks, lists, quotes, rules, links and autolinks.

import { h, safeHref } from './dom.js';

/** The nodes of `text` rendered, in a <div class="markdown">. */
export function renderMarkdown(text) {
  return h('div', { class: 'markdown' }, blocks(String(text ?? '').replace(/\r\n?/g, '\n').split('\n')));
}

function blocks(lines) {
  const out = [];
  let i = 0;
  const paragraph = [];
  const flush = () => {
    if (paragraph.length) out.push(h('p', {}, inline(paragraph.join('\n'))));
    paragraph.length = 0;
  };
  while (i < lines.length) {
    const line = lines[i];
    let match;
    if (/^\s*$/.test(line)) {
      flush();
      i += 1;
    } else if ((match = /^(```|~~~)/.exec(line))) {
      flush();
      const code = [];
      for (i += 1; i < lines.length && !lines[i].startsWith(match[1]); i += 1) code.push(lines[i]);
      i += 1;
      out.push(h('pre', {}, h('code', {}, code.join('\n'))));
    } else if ((match = /^(#{1,6})\s+(.*?)\s*#*\s*$/.exec(line))) {
      flush();
      // Inside a page whose own headings are h1 and h2.
      out.push(h(`h${Math.min(6, match[1].length + 2)}`, {}, inline(match[2])));
      i += 1;
    } else if (/^\s{0,3}([-*_])(\s*\1){2,}\s*$/.test(line)) {
      flush();
      out.push(h('hr'));
      i += 1;
    } else if (/^>\s?/.test(line)) {
      flush();
      const quoted = [];
      for (; i < lines.length && /^>\s?/.test(lines[i]); i += 1) quoted.push(lines[i].replace(/^>\s?/, ''));
      out.push(h('blockquote', {}, blocks(quoted)));
    } else if ((match = /^\s*([-*+]|\d+[.)])\s+/.exec(line))) {
      flush();
      const ordered = /\d/.test(match[1]);
      const item = ordered ? /^\s*\d+[.)]\s+(.*)$/ : /^\s*[-*+]\s+(.*)$/;
      const items = [];
      for (; i < lines.length && item.test(lines[i]); i += 1) items.push(h('li', {}, inline(item.exec(lines[i])[1])));
      out.push(h(ordered ? 'ol' : 'ul', {}, items));
    } else {
      paragraph.push(line);
      i += 1;
    }
  }
  flush();
  return out;
}

/** Code spans, links, autolinks, strong and emphasis; a backslash escapes a mark. */
const INLINE = /\\([\\`*_[\]()<>#!-])|`([^`]+)`|\[([^\]]+)\]\(([^)\s]+)\)|<((?:https?:\/\/|mailto:)[^>\s]+)>|\*\*(.+?)\*\*|__(.+?)__|\*([^*\s](?:.*?[^*\s])?)\*|_([^_\s](?:.*?[^_\s])?)_|\n/g;

function inline(text) {
  const out = [];
  let last = 0;
  for (const match of text.matchAll(INLINE)) {
    if (match.index > last) out.push(text.slice(last, match.index));
    last = match.index + match[0].length;
    const [whole, escaped, code, linkText, linkUrl, autolink, strong1, strong2, em1, em2] = match;
    if (escaped !== undefined) out.push(escaped);
    else if (code !== undefined) out.push(h('code', {}, code));
    else if (linkText !== undefined) out.push(link(linkUrl, inline(linkText)));
    else if (autolink !== undefined) out.push(link(autolink, autolink));
    else if (strong1 !== undefined || strong2 !== undefined) out.push(h('strong', {}, inline(strong1 ?? strong2)));
    else if (em1 !== undefined || em2 !== undefined) out.push(h('em', {}, inline(em1 ?? em2)));
    else if (whole === '\n') out.push(' ');
  }
  if (last < text.length) out.push(text.slice(last));
  return out;
}

/** A link when the address is http, https or mailto; its text alone otherwise. */
function link(url, content) {
  const href = /^(https?:|mailto:)/i.test(url) ? safeHref(url) : null;
  return href ? h('a', { href, rel: 'noopener noreferrer nofollow' }, content) : h('span', {}, content);
}

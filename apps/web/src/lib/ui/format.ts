/**
 * A message's text as a small, safe tree to render: *italic*, **bold**, `inline code`, fenced
 * code blocks, block quotes, links (http, https and mailto only), bare web addresses (as
 * linkify.ts finds them) and `@name` mentions. Everything else (headings, lists, tables, HTML,
 * images…) shows exactly as typed. The tree holds strings only, and the views render them as
 * text nodes and elements, never as HTML, so no message can inject markup.
 *
 * The Markdown is read by marked's lexer (its tokens only; its HTML renderer is never used),
 * with bounds that keep the work linear in the text's length whatever it holds: block quotes
 * and inline formatting nest a few levels at most (deeper, the rest is text), and emphasis and
 * links scan ahead for their closers within a budget proportional to the text (spent, the rest
 * of the openers are read as text).
 */
import { Lexer, Tokenizer, type Token, type Tokens } from 'marked';
import { mentions } from './attention.ts';
import { linkify } from './linkify.ts';

export type Inline =
  | { kind: 'text'; text: string }
  | { kind: 'strong'; children: Inline[] }
  | { kind: 'em'; children: Inline[] }
  | { kind: 'code'; text: string }
  /** `href` is http:, https: or mailto:, checked here; `title` is where it goes. */
  | { kind: 'link'; href: string; children: Inline[] }
  /** `me`: it names the reader. */
  | { kind: 'mention'; text: string; me: boolean };

export type Block =
  /** Text with its line breaks (the view keeps white space as typed). */
  | { kind: 'inline'; children: Inline[] }
  | { kind: 'code'; text: string; lang: string }
  | { kind: 'quote'; children: Block[] };

/** Block quotes inside block quotes, at most; deeper `>` show as typed. */
export const MAX_QUOTE_DEPTH = 3;
/** Formatting inside formatting (bold in italic in a link…), at most; deeper shows as text. */
export const MAX_INLINE_DEPTH = 5;
/**
 * How far emphasis and links may scan ahead for their closers, in all, per character of the
 * message. A failed try may scan to the end of the text, so thousands of unclosed `*` or `[`
 * would be quadratic; once this is spent, the rest of them are text.
 */
export const SCAN_BUDGET_PER_CHARACTER = 4;

const SAFE_PROTOCOLS = new Set(['http:', 'https:', 'mailto:']);

/** The tokenizer with its budgets: one per message. */
class BoundedTokenizer extends Tokenizer {
  #quoteDepth = 0;
  #scanBudget: number;

  constructor(textLength: number) {
    super();
    this.#scanBudget = SCAN_BUDGET_PER_CHARACTER * textLength + 1_024;
  }

  override blockquote(src: string): Tokens.Blockquote | undefined {
    if (this.#quoteDepth >= MAX_QUOTE_DEPTH) return undefined;
    this.#quoteDepth += 1;
    try {
      return super.blockquote(src);
    } finally {
      this.#quoteDepth -= 1;
    }
  }

  override emStrong(src: string, maskedSrc: string, prevChar?: string): Tokens.Em | Tokens.Strong | undefined {
    return this.#scan(src, () => super.emStrong(src, maskedSrc, prevChar));
  }

  override link(src: string): Tokens.Link | Tokens.Image | undefined {
    return this.#scan(src, () => super.link(src));
  }

  /** A try that scans ahead: a match costs its length, a miss what it may have scanned (the rest). */
  #scan<T extends { raw: string }>(src: string, attempt: () => T | undefined): T | undefined {
    if (this.#scanBudget <= 0) return undefined;
    const token = attempt();
    this.#scanBudget -= token === undefined ? src.length : token.raw.length;
    return token;
  }
}

/** The lexer, with formatting nested at most MAX_INLINE_DEPTH deep. */
class BoundedLexer extends Lexer {
  #inlineDepth = 0;

  override inlineTokens(src: string, tokens: Token[] = []): Token[] {
    if (this.#inlineDepth >= MAX_INLINE_DEPTH) {
      tokens.push({ type: 'text', raw: src, text: src });
      return tokens;
    }
    this.#inlineDepth += 1;
    try {
      return super.inlineTokens(src, tokens);
    } finally {
      this.#inlineDepth -= 1;
    }
  }
}

/** marked's tokens for a message: CommonMark, without GitHub's extensions (tables, ~~, bare URLs). */
export function tokenize(text: string): Token[] {
  const tokenizer = new BoundedTokenizer(text.length);
  const lexer = new BoundedLexer({ gfm: false, breaks: false, pedantic: false, tokenizer });
  return lexer.lex(text);
}

/**
 * @param text A message as received.
 * @param myName The reader's display name: a mention of it is marked as theirs.
 */
export function formatMessage(text: string, myName = ''): Block[] {
  return blocks(tokenize(text), myName);
}

function blocks(tokens: readonly Token[], myName: string): Block[] {
  const out: Block[] = [];
  let run: Inline[] | null = null;
  const inline = (): Inline[] => {
    if (run === null) {
      run = [];
      out.push({ kind: 'inline', children: run });
    }
    return run;
  };
  const element = (block: Block) => {
    out.push(block);
    run = null;
  };
  for (const token of tokens) {
    switch (token.type) {
      case 'paragraph': {
        const paragraph = token as Tokens.Paragraph;
        const children = inline();
        children.push(...inlines(paragraph.tokens, myName));
        // The paragraph's own line breaks after it (its text has none at the end).
        pushText(children, trailingNewlines(paragraph.raw), myName, true);
        break;
      }
      case 'code': {
        const code = token as Tokens.Code;
        if (code.codeBlockStyle === 'indented') pushText(inline(), code.raw, myName);
        else {
          element({ kind: 'code', text: code.text, lang: (code.lang ?? '').split(/\s/)[0] ?? '' });
          pushTrailing(inline, code.raw, myName);
        }
        break;
      }
      case 'blockquote': {
        const quote = token as Tokens.Blockquote;
        element({ kind: 'quote', children: blocks(quote.tokens, myName) });
        pushTrailing(inline, quote.raw, myName);
        break;
      }
      default:
        // Spaces, and everything outside the subset (headings, lists, HTML, rules…): as typed.
        pushText(inline(), token.raw, myName);
    }
  }
  return trimAroundElements(out);
}

/** After a code block or a quote: the line breaks beyond the one that ends it. */
function pushTrailing(inline: () => Inline[], raw: string, myName: string): void {
  const breaks = trailingNewlines(raw);
  if (breaks.length > 0) pushText(inline(), breaks, myName, true);
}

/** The line breaks at the end of a token's text (counted from the end: a pattern would rescan runs). */
function trailingNewlines(raw: string): string {
  let start = raw.length;
  while (start > 0 && raw[start - 1] === '\n') start -= 1;
  return raw.slice(start);
}

/**
 * A code block or a quote starts and ends a line by itself, with some space around it: drop the
 * line break before it, and after it the line break and the blank line that Markdown needs to
 * end a quote, or each would show as an extra empty line.
 */
function trimAroundElements(out: Block[]): Block[] {
  for (let i = 0; i < out.length; i++) {
    const block = out[i]!;
    if (block.kind !== 'inline') continue;
    if (out[i + 1] !== undefined) trimEdge(block.children, 'end', 1);
    if (i > 0) trimEdge(block.children, 'start', 2);
  }
  return out.filter((b) => b.kind !== 'inline' || b.children.length > 0);
}

function trimEdge(children: Inline[], edge: 'start' | 'end', breaks: number): void {
  const at = edge === 'end' ? children.length - 1 : 0;
  const node = children[at];
  if (node?.kind !== 'text') return;
  let { text } = node;
  for (let n = 0; n < breaks; n++) {
    if (edge === 'end' && text.endsWith('\n')) text = text.slice(0, -1);
    else if (edge === 'start' && text.startsWith('\n')) text = text.slice(1);
  }
  if (text === '') children.splice(at, 1);
  else children[at] = { kind: 'text', text };
}

function inlines(tokens: readonly Token[] | undefined, myName: string): Inline[] {
  const out: Inline[] = [];
  for (const token of tokens ?? []) {
    switch (token.type) {
      case 'strong':
      case 'em':
        out.push({ kind: token.type, children: inlines((token as Tokens.Strong).tokens, myName) });
        break;
      case 'codespan':
        out.push({ kind: 'code', text: (token as Tokens.Codespan).text });
        break;
      case 'br':
        pushText(out, '\n', myName, true);
        break;
      case 'escape':
        pushText(out, (token as Tokens.Escape).text, myName);
        break;
      case 'link': {
        const link = token as Tokens.Link;
        const href = safeHref(link.href);
        if (href === null) pushText(out, link.raw, myName);
        else out.push({ kind: 'link', href, children: linkChildren(link, myName) });
        break;
      }
      case 'text':
        // The raw text: marked's `text` is escaped for HTML, and this is not HTML.
        pushText(out, token.raw, myName);
        break;
      default:
        // HTML tags, images and anything else: as typed.
        pushText(out, token.raw, myName);
    }
  }
  return out;
}

/** A link's label; a bare address inside it is not made a second link. */
function linkChildren(link: Tokens.Link, myName: string): Inline[] {
  const children = inlines(link.tokens, myName);
  return children.flatMap((child) => (child.kind === 'link' ? child.children : [child]));
}

/**
 * Adds text, with bare web addresses as links and `@name` mentions marked (unless `plain`);
 * next to text already there, it joins it.
 */
function pushText(out: Inline[], text: string, myName: string, plain = false): void {
  if (text === '') return;
  const nodes: Inline[] = plain
    ? [{ kind: 'text', text }]
    : linkify(text).flatMap((part): Inline[] =>
        part.kind === 'link'
          ? [{ kind: 'link', href: part.href, children: [{ kind: 'text', text: part.text }] }]
          : withMentions(part.text, myName),
      );
  for (const node of nodes) {
    const last = out.at(-1);
    if (node.kind === 'text' && last?.kind === 'text')
      out[out.length - 1] = { kind: 'text', text: last.text + node.text };
    else out.push(node);
  }
}

// An @ not inside a word (an e-mail address), then a name's first word.
const MENTION = /(?<![\p{L}\p{N}\p{M}_.@])@[\p{L}\p{N}\p{M}_][\p{L}\p{N}\p{M}_.-]*/gu;

function withMentions(text: string, myName: string): Inline[] {
  const out: Inline[] = [];
  let last = 0;
  for (const match of text.matchAll(MENTION)) {
    // A name does not end with a dot or a dash: that is the sentence's.
    const mention = match[0].replace(/[.-]+$/, '');
    if (match.index > last) out.push({ kind: 'text', text: text.slice(last, match.index) });
    out.push({ kind: 'mention', text: mention, me: myName !== '' && mentions(mention, myName) });
    last = match.index + mention.length;
  }
  if (last < text.length) out.push({ kind: 'text', text: text.slice(last) });
  return out;
}

/** The link's address if it is http(s) or mailto with somewhere to go, else `null`. */
export function safeHref(href: string): string | null {
  try {
    const url = new URL(href);
    if (!SAFE_PROTOCOLS.has(url.protocol)) return null;
    if (url.protocol !== 'mailto:' && url.hostname === '') return null;
    return url.href;
  } catch {
    return null;
  }
}

/** The text a tree shows, formatting marks left out: for tests, and what screen readers get. */
export function plainText(tree: readonly (Block | Inline)[]): string {
  return tree
    .map((node) => {
      switch (node.kind) {
        case 'text':
        case 'code':
        case 'mention':
          return node.text;
        case 'quote':
          return plainText(node.children);
        default:
          return plainText(node.children);
      }
    })
    .join('');
}

/**
 * A message's text as a reply quotes it: the formatting marks left out, on one line, the first
 * `length` characters (code points) of it.
 */
export function quoteText(text: string, length: number): string {
  const plain = plainText(formatMessage([...text].slice(0, length * 2).join('')))
    .replace(/\s+/g, ' ')
    .trim();
  return [...plain].slice(0, length).join('');
}

/**
 * A small POSIX-shell lexer: enough to split `run:` blocks, scripts and Makefile recipes into
 * simple commands with words, redirections, pipes and here-documents, keeping source offsets.
 * It does not evaluate anything; command and process substitutions are lexed as commands too.
 */

/** A word with quotes removed (`value`) and its source span. */
export interface ShellWord {
  readonly value: string;
  readonly start: number;
  readonly end: number;
}

/** A redirection such as `> file`, `>> "$GITHUB_ENV"`, `2>&1`. */
export interface ShellRedirect {
  readonly op: string;
  readonly target: ShellWord | undefined;
}

/** A simple command. */
export interface ShellCommand {
  readonly words: readonly ShellWord[];
  readonly redirects: readonly ShellRedirect[];
  /** Its stdin comes from the previous command through `|`. */
  readonly pipedFrom: boolean;
  /** Its stdout goes to the next command through `|`. */
  readonly pipesTo: boolean;
  /** Lexed from inside `$(…)`, backticks or `<(…)`. */
  readonly substituted: boolean;
  readonly start: number;
  readonly end: number;
  /** Here-document bodies attached to this command. */
  readonly heredocs: readonly { readonly start: number; readonly end: number; readonly text: string }[];
}

interface MutableCommand {
  words: ShellWord[];
  redirects: ShellRedirect[];
  pipedFrom: boolean;
  pipesTo: boolean;
  substituted: boolean;
  start: number;
  end: number;
  heredocs: { start: number; end: number; text: string }[];
}

const MAX_NESTING = 16;

/** Splits shell text into simple commands; `base` is added to every offset. */
export function lexShell(text: string, base = 0): ShellCommand[] {
  const out: ShellCommand[] = [];
  lexInto(text, 0, text.length, base, false, 0, out);
  return out;
}

function lexInto(
  text: string,
  from: number,
  to: number,
  base: number,
  substituted: boolean,
  nesting: number,
  out: ShellCommand[],
): void {
  const newCommand = (pipedFrom: boolean, at: number): MutableCommand => ({
    words: [],
    redirects: [],
    pipedFrom,
    pipesTo: false,
    substituted,
    start: base + at,
    end: base + at,
    heredocs: [],
  });
  let cmd = newCommand(false, from);
  let value = '';
  let wordStart = -1;
  let pendingOp: string | undefined;
  const pendingHeredocs: { delimiter: string; stripTabs: boolean; cmd: MutableCommand }[] = [];
  const ordered: MutableCommand[] = [];
  const nested: ShellCommand[] = [];

  const flushWord = (end: number): void => {
    if (wordStart === -1) return;
    const word: ShellWord = { value, start: base + wordStart, end: base + end };
    if (pendingOp !== undefined) {
      if (pendingOp === '<<' || pendingOp === '<<-')
        pendingHeredocs.push({ delimiter: value, stripTabs: pendingOp === '<<-', cmd });
      cmd.redirects.push({ op: pendingOp, target: word });
      pendingOp = undefined;
    } else {
      cmd.words.push(word);
    }
    cmd.end = base + end;
    value = '';
    wordStart = -1;
  };
  const endCommand = (at: number, pipe: boolean): void => {
    flushWord(at);
    if (pendingOp !== undefined) {
      cmd.redirects.push({ op: pendingOp, target: undefined });
      pendingOp = undefined;
    }
    if (cmd.words.length > 0 || cmd.redirects.length > 0) {
      cmd.pipesTo = pipe;
      ordered.push(cmd);
    }
    cmd = newCommand(pipe, at + 1);
  };
  const begin = (i: number): void => {
    if (wordStart === -1) {
      wordStart = i;
      if (cmd.words.length === 0 && cmd.redirects.length === 0) cmd.start = base + i;
    }
  };
  const substitute = (innerFrom: number, innerTo: number): void => {
    if (nesting < MAX_NESTING) lexInto(text, innerFrom, innerTo, base, true, nesting + 1, nested);
  };

  let i = from;
  while (i < to) {
    const ch = text[i] ?? '';
    if (ch === '#' && wordStart === -1) {
      while (i < to && text[i] !== '\n') i++;
      continue;
    }
    if (ch === '\\') {
      if (text[i + 1] === '\n') {
        i += 2;
        continue;
      }
      if (text[i + 1] === '\r' && text[i + 2] === '\n') {
        i += 3;
        continue;
      }
      begin(i);
      value += text[i + 1] ?? '';
      i += 2;
      continue;
    }
    if (ch === ' ' || ch === '\t' || ch === '\r') {
      flushWord(i);
      i++;
      continue;
    }
    if (ch === '\n') {
      endCommand(i, false);
      i++;
      // Here-document bodies start on the line after the operator.
      while (pendingHeredocs.length > 0) {
        const doc = pendingHeredocs.shift();
        if (doc === undefined) break;
        const bodyStart = i;
        let bodyEnd = i;
        while (i < to) {
          let lineEnd = text.indexOf('\n', i);
          if (lineEnd === -1 || lineEnd > to) lineEnd = to;
          const line = text.slice(i, lineEnd).replace(/\r$/, '');
          const candidate = doc.stripTabs ? line.replace(/^\t+/, '') : line;
          if (candidate.trim() === doc.delimiter) {
            bodyEnd = i;
            i = Math.min(lineEnd + 1, to);
            break;
          }
          i = Math.min(lineEnd + 1, to);
          bodyEnd = i;
        }
        doc.cmd.heredocs.push({
          start: base + bodyStart,
          end: base + bodyEnd,
          text: text.slice(bodyStart, bodyEnd),
        });
      }
      continue;
    }
    if (ch === ';') {
      endCommand(i, false);
      i += text[i + 1] === ';' ? 2 : 1;
      continue;
    }
    if (ch === '&') {
      if (text[i + 1] === '&') {
        endCommand(i, false);
        i += 2;
        continue;
      }
      if (text[i + 1] === '>') {
        flushWord(i);
        pendingOp = text[i + 2] === '>' ? '&>>' : '&>';
        i += pendingOp.length;
        continue;
      }
      endCommand(i, false);
      i++;
      continue;
    }
    if (ch === '|') {
      if (text[i + 1] === '|') {
        endCommand(i, false);
        i += 2;
        continue;
      }
      endCommand(i, true);
      i += text[i + 1] === '&' ? 2 : 1;
      continue;
    }
    if (ch === '<' && text[i + 1] === '(') {
      // Process substitution `<(curl …)`: the inner command is a command of its own; the word stays.
      begin(i);
      const close = findClosing(text, i + 1, to);
      substitute(i + 2, close);
      value += text.slice(i, Math.min(close + 1, to));
      i = close + 1;
      continue;
    }
    if (ch === '>' || ch === '<') {
      // `2>` / `2>>`: a file-descriptor number glued to the operator belongs to it.
      if (wordStart !== -1 && /^\d+$/.test(value) && i === wordStart + value.length) {
        value = '';
        wordStart = -1;
      } else {
        flushWord(i);
      }
      let op = ch;
      let j = i + 1;
      while (
        j < to &&
        (text[j] === '>' || text[j] === '<' || text[j] === '&' || text[j] === '|' || text[j] === '-') &&
        op.length < 3
      ) {
        if (text[j] === '-' && op !== '<<') break;
        op += text[j];
        j++;
      }
      if (op.endsWith('&')) {
        // `2>&1`: duplicate, not a file.
        while (j < to && /[0-9-]/.test(text[j] ?? '')) j++;
        i = j;
        continue;
      }
      pendingOp = op;
      i = j;
      continue;
    }
    if ((ch === '(' || ch === ')') && wordStart === -1) {
      endCommand(i, false);
      i++;
      continue;
    }
    if (ch === "'") {
      begin(i);
      let j = i + 1;
      while (j < to && text[j] !== "'") j++;
      value += text.slice(i + 1, j);
      i = j + 1;
      continue;
    }
    if (ch === '"') {
      begin(i);
      let j = i + 1;
      while (j < to && text[j] !== '"') {
        const c = text[j] ?? '';
        if (c === '\\' && j + 1 < to) {
          const n = text[j + 1] ?? '';
          value += n === '"' || n === '\\' || n === '$' || n === '`' ? n : c + n;
          j += 2;
          continue;
        }
        if (c === '$' && text[j + 1] === '{' && text[j + 2] === '{') {
          const close = text.indexOf('}}', j + 3);
          const stop = close === -1 || close > to ? to : close + 2;
          value += text.slice(j, stop);
          j = stop;
          continue;
        }
        if (c === '$' && text[j + 1] === '(' && text[j + 2] !== '(') {
          const close = findClosing(text, j + 1, to);
          substitute(j + 2, close);
          value += text.slice(j, Math.min(close + 1, to));
          j = close + 1;
          continue;
        }
        if (c === '`') {
          const close = findBacktick(text, j, to);
          substitute(j + 1, close);
          value += text.slice(j, Math.min(close + 1, to));
          j = close + 1;
          continue;
        }
        value += c;
        j++;
      }
      i = j + 1;
      continue;
    }
    if (ch === '$') {
      begin(i);
      const next = text[i + 1];
      if (next === '{' && text[i + 2] === '{') {
        // A GitHub expression `${{ … }}` is one opaque piece of a word, spaces included.
        const close = text.indexOf('}}', i + 3);
        const stop = close === -1 || close > to ? to : close + 2;
        value += text.slice(i, stop);
        i = stop;
        continue;
      }
      if (next === '(' && text[i + 2] === '(') {
        const close = text.indexOf('))', i + 3);
        const stop = close === -1 || close > to ? to : close + 2;
        value += text.slice(i, stop);
        i = stop;
        continue;
      }
      if (next === '(') {
        const close = findClosing(text, i + 1, to);
        substitute(i + 2, close);
        value += text.slice(i, Math.min(close + 1, to));
        i = close + 1;
        continue;
      }
      if (next === '{') {
        const close = text.indexOf('}', i + 2);
        const stop = close === -1 || close > to ? to : close + 1;
        value += text.slice(i, stop);
        i = stop;
        continue;
      }
      value += ch;
      i++;
      continue;
    }
    if (ch === '`') {
      begin(i);
      const close = findBacktick(text, i, to);
      substitute(i + 1, close);
      value += text.slice(i, Math.min(close + 1, to));
      i = close + 1;
      continue;
    }
    begin(i);
    value += ch;
    i++;
  }
  endCommand(to, false);
  out.push(...ordered, ...nested);
}

/** Index of the `)` matching the `(` at `open`, skipping quotes and nested parentheses; `to` when unbalanced. */
function findClosing(text: string, open: number, to: number): number {
  let depth = 0;
  for (let i = open; i < to; i++) {
    const c = text[i];
    if (c === '\\') {
      i++;
      continue;
    }
    if (c === "'") {
      const close = text.indexOf("'", i + 1);
      i = close === -1 ? to : close;
      continue;
    }
    if (c === '"') {
      let j = i + 1;
      while (j < to && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      i = j;
      continue;
    }
    if (c === '(') depth++;
    else if (c === ')') {
      depth--;
      if (depth === 0) return i;
    }
  }
  return to;
}

function findBacktick(text: string, open: number, to: number): number {
  for (let i = open + 1; i < to; i++) {
    if (text[i] === '\\') {
      i++;
      continue;
    }
    if (text[i] === '`') return i;
  }
  return to;
}

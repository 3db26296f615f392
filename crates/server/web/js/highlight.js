// A small syntax highlighter: one regular-expression tokenizer per language
// family. `tokens` is pure (testable in Node); `highlight` turns the tokens
// into text nodes and <span class="tok-..."> elements. Text past LIMIT is
// left plain so that a megabyte of output costs nothing.

const LIMIT = 40000;

const KEYWORDS = {
  rust: "as async await break const continue crate dyn else enum extern false fn for if impl in let loop match mod move mut pub ref return self Self static struct super trait true type unsafe use where while",
  js: "async await break case catch class const continue debugger default delete do else export extends false finally for from function if import in instanceof let new null of return static super switch this throw true try typeof undefined var void while with yield interface type enum implements",
  python: "and as assert async await break class continue def del elif else except False finally for from global if import in is lambda None nonlocal not or pass raise return True try while with yield",
  sh: "if then else elif fi for while until do done case esac in function return export local set unset echo cd exit source",
  go: "break case chan const continue default defer else fallthrough for func go goto if import interface map package range return select struct switch type var nil true false",
  c: "auto break case char class const continue default delete do double else enum extern false float for goto if inline int long namespace new nullptr private protected public return short signed sizeof static struct switch template this throw true try typedef union unsigned using virtual void volatile while final boolean extends implements import package super throws",
  sql: "select from where and or not insert into values update set delete create table index on join left right inner outer group by order limit as null is primary key",
};

const ALIASES = {
  rs: "rust", rust: "rust",
  js: "js", mjs: "js", cjs: "js", jsx: "js", ts: "js", tsx: "js", javascript: "js", typescript: "js", json: "json",
  py: "python", python: "python",
  sh: "sh", bash: "sh", zsh: "sh", shell: "sh", console: "sh", shellsession: "sh",
  go: "go", golang: "go",
  c: "c", h: "c", cpp: "c", cc: "c", "c++": "c", hpp: "c", java: "c", kotlin: "c", swift: "c", cs: "c", csharp: "c",
  sql: "sql", toml: "conf", yaml: "conf", yml: "conf", ini: "conf", diff: "diff", patch: "diff",
};

const cache = new Map();

function lexer(lang) {
  if (cache.has(lang)) return cache.get(lang);
  const hash = lang === "python" || lang === "sh" || lang === "conf";
  const slash = lang !== "python" && lang !== "sh" && lang !== "conf" && lang !== "sql";
  const parts = [];
  if (slash) parts.push(["comment", String.raw`\/\/[^\n]*|\/\*[\s\S]*?\*\/`]);
  if (hash) parts.push(["comment", String.raw`#[^\n]*`]);
  if (lang === "sql") parts.push(["comment", String.raw`--[^\n]*`]);
  if (lang === "python") parts.push(["string", String.raw`"""[\s\S]*?"""|'''[\s\S]*?'''`]);
  parts.push(["string", String.raw`"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'` + (lang === "js" || lang === "sh" ? "|`(?:[^`\\\\]|\\\\.)*`" : "")]);
  parts.push(["number", String.raw`\b(?:0x[0-9a-fA-F_]+|\d[\d_]*(?:\.\d+)?(?:[eE][+-]?\d+)?)\b`]);
  if (lang === "sh") parts.push(["variable", String.raw`\$\{[^}\n]*\}|\$\w+`]);
  if (lang === "rust") parts.push(["macro", String.raw`\b\w+!`]);
  if (lang === "json") parts.push(["keyword", String.raw`\b(?:true|false|null)\b`]);
  const words = KEYWORDS[lang];
  if (words) parts.push(["keyword", String.raw`\b(?:${words.split(" ").join("|")})\b`]);
  if (lang !== "json" && lang !== "conf") parts.push(["type", String.raw`\b[A-Z][A-Za-z0-9_]*\b`]);
  const re = new RegExp(parts.map(([, p]) => `(${p})`).join("|"), lang === "sql" ? "gi" : "g");
  const result = { re, kinds: parts.map(([k]) => k) };
  cache.set(lang, result);
  return result;
}

/** Split code into [kind, text] tokens; kind is null for plain text. */
export function tokens(code, lang) {
  const family = ALIASES[(lang || "").toLowerCase()];
  const head = code.length > LIMIT ? code.slice(0, LIMIT) : code;
  const tail = code.length > LIMIT ? code.slice(LIMIT) : "";
  const out = [];
  if (!family) {
    out.push([null, code]);
  } else if (family === "diff") {
    for (const line of head.split(/(?<=\n)/)) {
      const kind = /^(\+\+\+|---|@@)/.test(line) ? "meta" : line[0] === "+" ? "inserted" : line[0] === "-" ? "deleted" : null;
      out.push([kind, line]);
    }
    if (tail) out.push([null, tail]);
  } else {
    const { re, kinds } = lexer(family);
    re.lastIndex = 0;
    let last = 0;
    let m;
    while ((m = re.exec(head))) {
      if (m[0].length === 0) { re.lastIndex++; continue; }
      if (m.index > last) out.push([null, head.slice(last, m.index)]);
      const group = m.findIndex((g, i) => i > 0 && g !== undefined);
      let kind = kinds[group - 1];
      // A JSON key is a string followed by a colon.
      if (family === "json" && kind === "string" && /^\s*:/.test(head.slice(re.lastIndex))) kind = "property";
      out.push([kind, m[0]]);
      last = re.lastIndex;
    }
    if (last < head.length) out.push([null, head.slice(last)]);
    if (tail) out.push([null, tail]);
  }
  return out;
}

/** Highlighted code as a DocumentFragment of text nodes and spans. */
export function highlight(code, lang) {
  const frag = document.createDocumentFragment();
  for (const [kind, text] of tokens(code, lang)) {
    if (!kind) { frag.append(document.createTextNode(text)); continue; }
    const span = document.createElement("span");
    span.className = `tok-${kind}`;
    span.textContent = text;
    frag.append(span);
  }
  return frag;
}

// Direct evaluation: user code that is one expression of literals, `input`'s own fields and
// operators on numbers and strings — no call, no loop, no assignment, no other name — is answered
// here, on the engine thread, instead of on a sandbox thread. A hop to a thread costs ~200 µs of
// CPU per activation on this VM; this costs a few µs, and cannot run long or allocate much: every
// part of the expression is evaluated at most once, and a bound on the result's size is checked
// before it starts. The answer is the one QuickJS gives: the operators are the host's, applied only
// where the language leaves nothing to the engine (primitives; own data properties of JSON values).
// Anything else — an unknown name, a call, an inherited property, an operand of another type, an
// error of any kind, a limit in reach — is not answered here, and the pool runs the code as usual.
import type { Sandbox, SandboxRequest } from '../sdk/index.js';
import { isCancelled } from './pool.js';

/** Evaluates a compiled expression on the input; throws `HANDED_OVER` where QuickJS must decide. */
type Evaluate = (input: unknown) => unknown;

interface Compiled {
  evaluate: Evaluate;
  /** Literals and `input`s in the expression: each contributes at most once to any value. */
  leaves: number;
}

/** Thrown where the answer is not certain here: the pool runs the code. One object, made once:
 * handing over is common (any call), and an error's stack is taken when it is made. */
const HANDED_OVER = new Error('handed over to the sandbox pool');

/**
 * The largest source, input and result answered here (JSON characters). Bigger ones are not worth
 * avoiding a hop for: four passes over 44 KiB of JSON took 1.6 ms, longer than the hop itself.
 */
const MAX_BYTES = 8 * 1024;
/** A thread's QuickJS needs many times the input's JSON to hold it parsed: far from any limit here. */
const MEMORY_HEADROOM = 64;
/** Nesting (of the input, and of the expression) well inside QuickJS's stack limit. */
const MAX_DEPTH = 32;
/** Sources remembered (compiled or refused); all are forgotten past this. */
const MAX_SOURCES = 1000;
/** Annex B's HTML-like comments, which QuickJS may read differently from this tokenizer. */
const HTML_COMMENT = /<!--|-->/;

export class DirectEvaluator {
  readonly #compiled = new Map<string, Compiled | null>();

  /** The result of `request`, as the pool would resolve it, or undefined: the pool must run it. */
  answer(request: SandboxRequest): { value: unknown } | undefined {
    // Before anything that costs in proportion to the source: a big one is the pool's.
    if (2 * request.source.length > MAX_BYTES) return undefined;
    const key = `${request.mode}\0${request.source}`;
    let compiled = this.#compiled.get(key);
    if (compiled === undefined) {
      if (this.#compiled.size >= MAX_SOURCES) this.#compiled.clear();
      compiled = compile(request.source, request.mode);
      this.#compiled.set(key, compiled);
    }
    // Code outside the subset (most code that reaches the pool) costs no walk of its input.
    if (compiled === null || !small(request.input)) return undefined;
    try {
      const inputJson = JSON.stringify(request.input ?? null);
      const bound = compiled.leaves * (inputJson.length + 32) + 2 * request.source.length;
      if (bound > Math.min(MAX_BYTES, request.maxOutputBytes)) return undefined;
      if (request.memoryLimitBytes < MEMORY_HEADROOM * (inputJson.length + MAX_BYTES)) return undefined;
      // What the thread does: the input crosses as JSON text, the result comes back as JSON text.
      const value = compiled.evaluate(JSON.parse(inputJson));
      const json = value === undefined ? undefined : JSON.stringify(value);
      if (json === undefined) return { value: null };
      if (Buffer.byteLength(json) > request.maxOutputBytes) return undefined;
      return { value: JSON.parse(json) as unknown };
    } catch {
      return undefined; // HANDED_OVER, or anything else: QuickJS says what it is
    }
  }
}

/** A sandbox that answers what it can directly and hands the rest (and anything cancelled) to `pool`. */
export function directFirst(pool: Sandbox, evaluator = new DirectEvaluator()): Sandbox {
  const evaluateNow = (request: SandboxRequest): { value: unknown } | undefined =>
    isCancelled(request) ? undefined : evaluator.answer(request);
  return {
    evaluate(request) {
      const answered = evaluateNow(request);
      return answered ? Promise.resolve(answered.value) : pool.evaluate(request);
    },
    evaluateNow,
  };
}

/**
 * Whether `value` is plain JSON data (arrays, plain objects, primitives) nested at most MAX_DEPTH
 * deep whose JSON text is not surely over MAX_BYTES: the walk counts a lower bound of that length
 * and stops as soon as it is over, so a big input costs no more than a small one here.
 */
function small(value: unknown): boolean {
  let budget = MAX_BYTES;
  const pending: { value: unknown; depth: number }[] = [{ value, depth: 0 }];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const { value: item, depth } = next;
    if (typeof item === 'string') budget -= item.length + 2;
    else if (typeof item !== 'object' || item === null) budget -= 1;
    else {
      if (depth >= MAX_DEPTH) return false;
      if (Array.isArray(item)) {
        budget -= item.length + 1;
        if (budget < 0) return false;
        for (const element of item as unknown[]) pending.push({ value: element, depth: depth + 1 });
      } else {
        const prototype = Object.getPrototypeOf(item) as unknown;
        if (prototype !== Object.prototype && prototype !== null) return false; // a Date, a Map, …: its JSON is its own
        for (const key of Object.keys(item)) {
          budget -= key.length + 4;
          if (budget < 0) return false;
          pending.push({ value: (item as Record<string, unknown>)[key], depth: depth + 1 });
        }
      }
    }
    if (budget < 0) return false;
  }
  return true;
}

function handOver(): never {
  throw HANDED_OVER;
}

// ---- The tokenizer: the subset's tokens exactly as JavaScript reads them; anything else refused.

type Token =
  | { kind: 'number'; value: number; newlineBefore: boolean }
  | { kind: 'string'; value: string; newlineBefore: boolean }
  | { kind: 'name'; value: string; newlineBefore: boolean }
  | { kind: 'punct'; value: string; newlineBefore: boolean }
  | { kind: 'end'; value: ''; newlineBefore: boolean };

const SPACE = /(?:[ \t\f\v\u00a0\ufeff]|[\n\r\u2028\u2029]|\/\/[^\n\r\u2028\u2029]*|\/\*[^]*?\*\/)*/y;
const LINE_BREAK = /[\n\r\u2028\u2029]/;
const NUMBER = /(?:(?:0|[1-9]\d*)(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?/y;
const NAME = /[A-Za-z_$][\w$]*/y;
const NAME_CHAR = /[\w$\\\u0080-\uffff]/;
/** Single-quoted or double-quoted, with no escape and no line break (anything else: refused). */
const STRING = /'[^'\\\n\r\u2028\u2029]*'|"[^"\\\n\r\u2028\u2029]*"/y;
/** Longest first, so that `===` is not read as `==` and `=`; those this subset refuses are here too. */
const PUNCT =
  /\?\?=|\?\?|\?\.(?!\d)|===|!==|==|!=|<=|>=|<<|>>|&&|\|\||\*\*|\+\+|--|[-+*/%]=|\.\.\.|[-+*/%<>!?:.,;(){}[\]=&|^~@#`\\]/y;

class Tokens {
  #at = 0;
  #peeked: Token | undefined;

  constructor(readonly source: string) {}

  peek(): Token {
    this.#peeked ??= this.#read();
    return this.#peeked;
  }

  next(): Token {
    const token = this.peek();
    this.#peeked = undefined;
    return token;
  }

  /** The next token if it is the punctuator `value`. */
  take(value: string): boolean {
    const token = this.peek();
    if (token.kind !== 'punct' || token.value !== value) return false;
    this.next();
    return true;
  }

  expect(value: string): void {
    if (!this.take(value)) handOver();
  }

  #read(): Token {
    const { source } = this;
    SPACE.lastIndex = this.#at;
    SPACE.exec(source);
    const newlineBefore = LINE_BREAK.test(source.slice(this.#at, SPACE.lastIndex));
    this.#at = SPACE.lastIndex;
    if (this.#at >= source.length) return { kind: 'end', value: '', newlineBefore };
    const token =
      this.#match(NUMBER, (text) => ({ kind: 'number', value: Number(text), newlineBefore })) ??
      this.#match(NAME, (text) => ({ kind: 'name', value: text, newlineBefore })) ??
      this.#match(STRING, (text) => ({ kind: 'string', value: text.slice(1, -1), newlineBefore })) ??
      this.#match(PUNCT, (text) => ({ kind: 'punct', value: text, newlineBefore }));
    if (!token) return handOver();
    // `3in`, `0x1`, `1_000`, `1n`, `05`, `a\u0062`: JavaScript reads these otherwise, or not at all.
    if ((token.kind === 'number' || token.kind === 'name') && NAME_CHAR.test(source.charAt(this.#at))) handOver();
    if (token.kind === 'number' && /\d/.test(source.charAt(this.#at))) handOver();
    return token;
  }

  #match(pattern: RegExp, make: (text: string) => Token): Token | undefined {
    pattern.lastIndex = this.#at;
    const found = pattern.exec(this.source);
    if (!found) return undefined;
    this.#at = pattern.lastIndex;
    return make(found[0]);
  }
}

// ---- The parser: one expression (after `return`, in function mode), compiled to closures.

/** The code as one expression and its size, or null: not in the subset (the pool runs it). */
function compile(source: string, mode: SandboxRequest['mode']): Compiled | null {
  if (HTML_COMMENT.test(source)) return null;
  try {
    const tokens = new Tokens(source);
    const parser = new Parser(tokens);
    if (mode === 'function') {
      const first = tokens.next();
      if (first.kind !== 'name' || first.value !== 'return' || tokens.peek().newlineBefore) return null;
    }
    const evaluate = parser.expression(0);
    // Any request would be refused by its bound (answer): not worth keeping.
    if (parser.leaves * 32 + 2 * source.length > MAX_BYTES) return null;
    // The expression is the whole body: `return e;` (function) or `e` (the wrapper adds the rest).
    if (mode === 'function') tokens.take(';');
    if (tokens.next().kind !== 'end') return null;
    return { evaluate, leaves: parser.leaves };
  } catch {
    return null;
  }
}

const BINARY: Record<string, number> = {
  '??': 1,
  '||': 2,
  '&&': 3,
  '===': 4,
  '!==': 4,
  '<': 5,
  '>': 5,
  '<=': 5,
  '>=': 5,
  '+': 6,
  '-': 6,
  '*': 7,
  '/': 7,
  '%': 7,
};

class Parser {
  leaves = 0;

  constructor(readonly tokens: Tokens) {}

  /** A conditional expression (`depth` counts nesting, bounded). */
  expression(depth: number): Evaluate {
    if (depth > MAX_DEPTH) handOver();
    const test = this.#binary(0, depth);
    if (!this.tokens.take('?')) return test;
    const then = this.expression(depth + 1);
    this.tokens.expect(':');
    const otherwise = this.expression(depth + 1);
    return (input) => (test(input) ? then(input) : otherwise(input));
  }

  /** Binary operators by precedence climbing; `??` mixed with `||` or `&&` unparenthesised is a
   * syntax error in JavaScript, so it is refused here. */
  #binary(minimum: number, depth: number): Evaluate {
    let left = this.#unary(depth);
    let family: 'coalesce' | 'logical' | undefined;
    for (;;) {
      const token = this.tokens.peek();
      if (token.kind !== 'punct') return left;
      const precedence = BINARY[token.value];
      if (precedence === undefined || precedence <= minimum) {
        // Operators this subset leaves to QuickJS (`==`'s coercions, `**`'s rounding, bit operators).
        if (/^(?:==|!=|\*\*|<<|>>|&|\||\^)$/.test(token.value)) handOver();
        return left;
      }
      this.tokens.next();
      const op = token.value;
      if (op === '??' || op === '||' || op === '&&') {
        const now = op === '??' ? 'coalesce' : 'logical';
        if (family !== undefined && family !== now) handOver();
        family = now;
      }
      const right = this.#binary(precedence, depth + 1);
      if (op === '??' && isLogical(right)) handOver();
      left = binary(op, left, right);
    }
  }

  #unary(depth: number): Evaluate {
    if (depth > MAX_DEPTH) handOver();
    const token = this.tokens.peek();
    if (token.kind === 'punct' && (token.value === '!' || token.value === '-' || token.value === '+')) {
      this.tokens.next();
      const operand = this.#unary(depth + 1);
      if (token.value === '!') return (input) => !operand(input);
      const sign = token.value === '-' ? -1 : 1;
      return (input) => {
        const value = operand(input);
        return typeof value === 'number' ? (sign === -1 ? -value : value) : handOver();
      };
    }
    return this.#member(depth);
  }

  /** A primary followed by `.name`, `?.name` and `[key]`; a call or a template is refused. */
  #member(depth: number): Evaluate {
    const object = this.#primary(depth);
    const steps: { key: string | Evaluate; optional: boolean }[] = [];
    for (;;) {
      const token = this.tokens.peek();
      if (token.kind !== 'punct') break;
      if (token.value === '.' || token.value === '?.') {
        this.tokens.next();
        const name = this.tokens.next();
        if (name.kind !== 'name') handOver();
        steps.push({ key: name.value, optional: token.value === '?.' });
      } else if (token.value === '[') {
        this.tokens.next();
        steps.push({ key: this.expression(depth + 1), optional: false });
        this.tokens.expect(']');
      } else if (token.value === '(' || token.value === '`') handOver();
      else break;
    }
    if (steps.length === 0) return object;
    return (input) => {
      let value = object(input);
      for (const { key, optional } of steps) {
        if (optional && (value === null || value === undefined)) return undefined;
        value = member(value, typeof key === 'string' ? key : key(input));
      }
      return value;
    };
  }

  #primary(depth: number): Evaluate {
    const token = this.tokens.next();
    this.leaves += 1;
    switch (token.kind) {
      case 'number':
      case 'string': {
        const { value } = token;
        return () => value;
      }
      case 'name':
        return named(token.value);
      case 'punct':
        if (token.value === '(') {
          this.leaves -= 1;
          const inner = this.expression(depth + 1);
          this.tokens.expect(')');
          return inner;
        }
        if (token.value === '{') return this.#object(depth + 1);
        if (token.value === '[') return this.#array(depth + 1);
        return handOver();
      default:
        return handOver();
    }
  }

  #object(depth: number): Evaluate {
    const parts: ({ key: string; value: Evaluate } | { spread: Evaluate })[] = [];
    while (!this.tokens.take('}')) {
      if (this.tokens.take('...')) parts.push({ spread: this.expression(depth + 1) });
      else {
        const name = this.tokens.next();
        let key: string;
        if (name.kind === 'name' || name.kind === 'string') key = name.value;
        else if (name.kind === 'number') key = String(name.value);
        else return handOver();
        // `__proto__: x` sets the prototype in JavaScript: not a field.
        if (key === '__proto__') handOver();
        if (name.kind === 'name' && !this.tokens.take(':')) {
          // Shorthand: only `input` names a value here.
          if (key !== 'input') handOver();
          this.leaves += 1;
          parts.push({ key, value: (input) => input });
        } else {
          if (name.kind !== 'name') this.tokens.expect(':');
          parts.push({ key, value: this.expression(depth + 1) });
        }
      }
      if (!this.tokens.take(',')) {
        this.tokens.expect('}');
        break;
      }
    }
    return (input) => {
      const object: Record<string, unknown> = {};
      for (const part of parts) {
        if ('key' in part) object[part.key] = part.value(input);
        else {
          const source = part.spread(input);
          if (source === null || source === undefined) continue;
          // A plain object or array only; its own `__proto__` (JSON.parse makes one) would be a setter here.
          if (typeof source !== 'object' || Object.hasOwn(source, '__proto__')) handOver();
          for (const key of Object.keys(source)) object[key] = (source as Record<string, unknown>)[key];
        }
      }
      return object;
    };
  }

  #array(depth: number): Evaluate {
    const items: { value: Evaluate; spread: boolean }[] = [];
    while (!this.tokens.take(']')) {
      if (this.tokens.peek().kind === 'punct' && this.tokens.peek().value === ',') handOver(); // a hole
      const spread = this.tokens.take('...');
      items.push({ value: this.expression(depth + 1), spread });
      if (!this.tokens.take(',')) {
        this.tokens.expect(']');
        break;
      }
    }
    return (input) => {
      const array: unknown[] = [];
      for (const { value, spread } of items) {
        const item = value(input);
        if (!spread) array.push(item);
        else if (Array.isArray(item)) for (const element of item as unknown[]) array.push(element);
        else handOver();
      }
      return array;
    };
  }
}

/** What a name means: `input`, or a literal; any other name (a global, a helper) is QuickJS's. */
function named(name: string): Evaluate {
  switch (name) {
    case 'input':
      return (input) => input;
    case 'true':
      return () => true;
    case 'false':
      return () => false;
    case 'null':
      return () => null;
    case 'undefined':
      return () => undefined;
    default:
      return handOver();
  }
}

const LOGICAL = new WeakSet<Evaluate>();

function isLogical(evaluate: Evaluate): boolean {
  return LOGICAL.has(evaluate);
}

function binary(op: string, left: Evaluate, right: Evaluate): Evaluate {
  let evaluate: Evaluate;
  switch (op) {
    case '??':
      evaluate = (input) => left(input) ?? right(input);
      break;
    case '||':
      evaluate = (input) => left(input) || right(input);
      LOGICAL.add(evaluate);
      break;
    case '&&':
      evaluate = (input) => left(input) && right(input);
      LOGICAL.add(evaluate);
      break;
    case '===':
      evaluate = (input) => left(input) === right(input);
      break;
    case '!==':
      evaluate = (input) => left(input) !== right(input);
      break;
    default:
      evaluate = (input) => arithmetic(op, left(input), right(input));
  }
  return evaluate;
}

/** `+` on primitives (concatenation or addition, both fully specified); the rest on numbers, or
 * comparisons of two strings; any other operand is converted by rules left to QuickJS here. */
function arithmetic(op: string, left: unknown, right: unknown): unknown {
  if (op === '+') {
    if (isObject(left) || isObject(right)) return handOver();
    return (left as number) + (right as number);
  }
  const numbers = typeof left === 'number' && typeof right === 'number';
  if (op === '<' || op === '>' || op === '<=' || op === '>=') {
    if (!numbers && !(typeof left === 'string' && typeof right === 'string')) return handOver();
    const [a, b] = [left as number, right as number];
    return op === '<' ? a < b : op === '>' ? a > b : op === '<=' ? a <= b : a >= b;
  }
  if (!numbers) return handOver();
  const [a, b] = [left, right];
  return op === '-' ? a - b : op === '*' ? a * b : op === '/' ? a / b : a % b;
}

function isObject(value: unknown): boolean {
  return typeof value === 'object' && value !== null;
}

/** `value[key]` where the answer is certain: an own field of a JSON object or array, a string's
 * length or character; a field a plain object lacks (and Object.prototype has none of) is undefined. */
function member(value: unknown, key: unknown): unknown {
  if (typeof key === 'number') key = String(key);
  if (typeof key !== 'string') return handOver();
  if (typeof value === 'string') {
    if (key === 'length') return value.length;
    const index = Number(key);
    return String(index) === key && Number.isInteger(index) && index >= 0 && index < value.length
      ? value[index]
      : handOver();
  }
  if (!isObject(value)) return handOver();
  if (Object.hasOwn(value as object, key)) return (value as Record<string, unknown>)[key];
  if (Array.isArray(value) || key in Object.prototype) return handOver();
  return undefined;
}

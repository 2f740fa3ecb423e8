/**
 * Kafka's `sasl.jaas.config` values: one login module entry,
 *   <LoginModuleClass> <flag> [key=value ...];
 * where values are bare words or double-quoted strings with backslash escapes, and // or
 * block comments may appear between tokens. Error messages name positions and keys, never
 * values, since values are usually passwords.
 */

export interface JaasConfig {
  loginModule: string;
  flag: string;
  options: Record<string, string>;
}

const FLAGS = ['required', 'requisite', 'sufficient', 'optional'];

type Token = { kind: 'word' | 'quoted' | '=' | ';'; text: string; pos: number };

function isWordChar(c: string): boolean {
  return !/\s/.test(c) && c !== '=' && c !== ';' && c !== '"';
}

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if (text.startsWith('//', i)) {
      const nl = text.indexOf('\n', i);
      i = nl < 0 ? text.length : nl + 1;
    } else if (text.startsWith('/*', i)) {
      const end = text.indexOf('*/', i + 2);
      if (end < 0) throw new Error(`sasl.jaas.config: unterminated comment at offset ${i}`);
      i = end + 2;
    } else if (c === '=' || c === ';') {
      tokens.push({ kind: c, text: c, pos: i });
      i++;
    } else if (c === '"') {
      const start = i;
      let out = '';
      i++;
      for (;;) {
        if (i >= text.length) throw new Error(`sasl.jaas.config: unterminated quoted string at offset ${start}`);
        const q = text[i]!;
        if (q === '"') {
          i++;
          break;
        }
        if (q === '\\') {
          if (i + 1 >= text.length) throw new Error(`sasl.jaas.config: unterminated quoted string at offset ${start}`);
          const e = text[i + 1]!;
          out += e === 'n' ? '\n' : e === 't' ? '\t' : e === 'r' ? '\r' : e;
          i += 2;
        } else {
          out += q;
          i++;
        }
      }
      tokens.push({ kind: 'quoted', text: out, pos: start });
    } else {
      const start = i;
      while (i < text.length && isWordChar(text[i]!) && !text.startsWith('//', i) && !text.startsWith('/*', i)) i++;
      tokens.push({ kind: 'word', text: text.slice(start, i), pos: start });
    }
  }
  return tokens;
}

export function parseJaasConfig(text: string): JaasConfig {
  const tokens = tokenize(text);
  let k = 0;
  // Words may be misplaced secrets, so errors show a token's kind and offset, not its text.
  const describe = (t: Token | undefined) =>
    !t ? 'the end' : t.kind === 'word' ? `a word at offset ${t.pos}` : t.kind === 'quoted' ? `a quoted string at offset ${t.pos}` : `'${t.text}' at offset ${t.pos}`;

  const module = tokens[k++];
  if (!module) throw new Error('sasl.jaas.config is empty: expected "<LoginModule> required key=value ...;"');
  if (module.kind !== 'word') throw new Error(`sasl.jaas.config: expected a login module class name, found ${describe(module)}`);
  const flagTok = tokens[k++];
  if (!flagTok || flagTok.kind !== 'word' || !FLAGS.includes(flagTok.text.toLowerCase())) {
    throw new Error(`sasl.jaas.config: expected a control flag (${FLAGS.join(', ')}) after ${module.text}, found ${describe(flagTok)}`);
  }
  const options: Record<string, string> = {};
  for (;;) {
    const t = tokens[k++];
    if (!t) throw new Error("sasl.jaas.config: missing ';' at the end of the login module entry");
    if (t.kind === ';') break;
    if (t.kind !== 'word') throw new Error(`sasl.jaas.config: expected an option name, found ${describe(t)}`);
    const eq = tokens[k++];
    if (!eq || eq.kind !== '=') throw new Error(`sasl.jaas.config: expected '=' after the option at offset ${t.pos}, found ${describe(eq)}`);
    const v = tokens[k++];
    if (!v || (v.kind !== 'word' && v.kind !== 'quoted')) {
      throw new Error(`sasl.jaas.config: expected a value for option '${t.text}', found ${describe(v)}`);
    }
    options[t.text] = v.text;
  }
  if (k < tokens.length) {
    // Kafka takes exactly one login module per sasl.jaas.config.
    throw new Error(`sasl.jaas.config must hold exactly one login module; found more text at offset ${tokens[k]!.pos}`);
  }
  return { loginModule: module.text, flag: flagTok.text.toLowerCase(), options };
}

/** The PLAIN users of a JAAS entry: each `user_<name>="<password>"` option. */
export function plainUsersFromJaas(options: Record<string, string>): Map<string, string> {
  const users = new Map<string, string>();
  for (const [key, value] of Object.entries(options)) {
    if (key.startsWith('user_') && key.length > 'user_'.length) users.set(key.slice('user_'.length), value);
  }
  return users;
}

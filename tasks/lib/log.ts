// Progress output for tasks: step headers, command lines, and a live
// progress line for long waits. On a terminal the progress line is rewritten
// in place; elsewhere (CI, pipes) it prints on change and every 15 s, so logs
// stay short but never look stuck.

const useColor = process.stderr.isTTY === true && !process.env.NO_COLOR;
const isTty = process.stderr.isTTY === true;

const paint = (code: string) => (text: string) => (useColor ? `\x1b[${code}m${text}\x1b[0m` : text);
export const style = {
  bold: paint("1"),
  dim: paint("2"),
  red: paint("31"),
  green: paint("32"),
  yellow: paint("33"),
  cyan: paint("36"),
};

let sink: (line: string) => void = (line) => process.stderr.write(`${line}\n`);

/** Redirect log output (tests capture it). Returns a function that restores the previous sink. */
export function captureLog(into: string[]): () => void {
  const previous = sink;
  sink = (line) => into.push(line);
  return () => {
    sink = previous;
  };
}

export const log = {
  step(title: string): void {
    sink(style.bold(style.cyan(`▶ ${title}`)));
  },
  info(message: string): void {
    sink(`  ${message}`);
  },
  ok(message: string): void {
    sink(`  ${style.green("✓")} ${message}`);
  },
  warn(message: string): void {
    sink(`  ${style.yellow("!")} ${message}`);
  },
  error(message: string): void {
    sink(`${style.red("✗")} ${message}`);
  },
  command(line: string): void {
    sink(style.dim(`  $ ${line}`));
  },
  plain(message: string): void {
    sink(message);
  },
};

export interface Progress {
  update(status: string): void;
  done(message?: string): void;
  fail(message?: string): void;
}

const formatSeconds = (ms: number) => `${(ms / 1000).toFixed(0)}s`;

/** A live line "⏳ <label> — <status> (12s)" for something that takes time. */
export function progress(label: string, now: () => number = Date.now): Progress {
  const started = now();
  let status = "";
  let lastPrinted = 0;
  let lastStatus: string | undefined;
  const render = () => `  ⏳ ${label}${status ? ` — ${status}` : ""} (${formatSeconds(now() - started)})`;
  const print = (force: boolean) => {
    const t = now();
    if (isTty && sink === defaultSinkRef) {
      process.stderr.write(`\r\x1b[2K${render()}`);
      return;
    }
    if (force || status !== lastStatus || t - lastPrinted >= 15_000) {
      sink(render());
      lastPrinted = t;
      lastStatus = status;
    }
  };
  const finish = (mark: string, message: string | undefined) => {
    if (isTty && sink === defaultSinkRef) process.stderr.write("\r\x1b[2K");
    sink(`  ${mark} ${message ?? label} (${formatSeconds(now() - started)})`);
  };
  print(true);
  return {
    update(next) {
      status = next;
      print(false);
    },
    done(message) {
      finish(style.green("✓"), message);
    },
    fail(message) {
      finish(style.red("✗"), message);
    },
  };
}

const defaultSinkRef = sink;

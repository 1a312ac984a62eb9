import { StringDecoder } from 'node:string_decoder';

/** Longer lines are cut into pieces of this many characters, so a stream without newlines stays bounded. */
export const MAX_LINE_LENGTH = 16 * 1024;

/** Turns a byte stream into lines as they complete (`\n` or `\r\n`), never waiting for the end. */
export class LineSplitter {
  private readonly decoder = new StringDecoder('utf8');
  private pending = '';

  constructor(private readonly onLine: (line: string) => void) {}

  push(chunk: Buffer): void {
    this.pending += this.decoder.write(chunk);
    let newline = this.pending.indexOf('\n');
    while (newline !== -1) {
      this.emit(this.pending.slice(0, newline));
      this.pending = this.pending.slice(newline + 1);
      newline = this.pending.indexOf('\n');
    }
    while (this.pending.length > MAX_LINE_LENGTH) {
      this.onLine(this.pending.slice(0, MAX_LINE_LENGTH));
      this.pending = this.pending.slice(MAX_LINE_LENGTH);
    }
  }

  end(): void {
    this.pending += this.decoder.end();
    if (this.pending.length > 0) this.emit(this.pending);
    this.pending = '';
  }

  private emit(line: string): void {
    const text = line.endsWith('\r') ? line.slice(0, -1) : line;
    for (let start = 0; start < text.length || start === 0; start += MAX_LINE_LENGTH) {
      this.onLine(text.slice(start, start + MAX_LINE_LENGTH));
    }
  }
}

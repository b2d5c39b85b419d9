// Damaged checkpoints for tests: a model.safetensors whose weight bytes were overwritten, as a bad copy, a disk
// error or a stray write leaves it (the header intact, so the file still opens). Test-only.
import { closeSync, fstatSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Overwrite every weight byte of `dir`/model.safetensors with `byte`: 0xff makes each f32 a NaN, 0x7e a finite but
 * huge 8.4e37, whose products overflow in the first forward pass.
 */
export function overwriteWeightBytes(dir: string, byte: number): void {
  const file = join(dir, 'model.safetensors');
  const headerBytes = Number(readFileSync(file).readBigUInt64LE(0));
  const fd = openSync(file, 'r+');
  try {
    const start = 8 + headerBytes;
    const length = fstatSync(fd).size - start;
    writeSync(fd, Buffer.alloc(length, byte), 0, length, start);
  } finally {
    closeSync(fd);
  }
}

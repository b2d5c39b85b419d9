// C-harness plumbing that needs no compiler: where headers/libraries are searched, the missing-library
// message, and the strict parsing of the harness's JSON lines.
import { isUserError } from '@lwz/core';
import { compileHarness, parseHarnessOutput, searchDirs } from './c-harness';

describe('searchDirs', () => {
  it('puts the env override first and the multiarch folders before the generic ones', () => {
    const dirs = searchDirs('openblas', 'x86_64-linux-gnu', {
      OPENBLAS_INCLUDE: '/opt/x/include',
      OPENBLAS_LIB: '/opt/x/lib',
    });
    expect(dirs.include[0]).toBe('/opt/x/include');
    expect(dirs.include).toContain('/usr/include/x86_64-linux-gnu');
    expect(dirs.lib.slice(0, 2)).toEqual(['/opt/x/lib', '/usr/lib/x86_64-linux-gnu']);
  });
});

describe('compileHarness', () => {
  it('fails with a UserError saying how to install a missing library', () => {
    const baseline = {
      kind: 'c-harness' as const,
      source: '/dev/null',
      header: 'no-such-header-lwz.h',
      library: 'nosuchlwz',
      install: 'apt-get install libnosuchlwz-dev',
    };
    let err: unknown;
    try {
      compileHarness('nosuch', baseline, {});
    } catch (e) {
      err = e;
    }
    expect(isUserError(err)).toBe(true);
    expect((err as Error).message).toMatch(
      /--baseline nosuch needs no-such-header-lwz\.h .* and libnosuchlwz .*install it with: apt-get install libnosuch/,
    );
  });
});

describe('parseHarnessOutput', () => {
  const specs = ['sgemm:2:3:4', 'sgemv:3:4'];

  it('reads the info line and one median per spec, in order', () => {
    const stdout = '{"info": "OpenBLAS x"}\n{"spec": "sgemm:2:3:4", "median_ms": 1.5}\n{"spec": "sgemv:3:4", "median_ms": 0.25}\n';
    expect(parseHarnessOutput(stdout, specs)).toEqual({ info: 'OpenBLAS x', medians: [1.5, 0.25] });
  });

  it('rejects answers out of order or missing', () => {
    expect(() => parseHarnessOutput('{"spec": "sgemv:3:4", "median_ms": 1}\n', specs)).toThrow(/where sgemm:2:3:4/);
    expect(() => parseHarnessOutput('{"spec": "sgemm:2:3:4", "median_ms": 1}\n', specs)).toThrow(/1 of 2 results/);
  });
});

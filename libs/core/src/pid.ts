// Whether a process id is alive on this host, for output locks (lock.ts) and for the temp folders a killed writer
// left (atomic.ts). A pid means nothing across machines or pid namespaces sharing a file system: same host only.

/** True while `pid` names a running process here (also one owned by another user); false once it has exited. */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'; // exists, owned by another user
  }
}

/**
 * The Pod Security Standards, "restricted" level (which includes "baseline"), as the admission
 * controller evaluates a pod spec (https://kubernetes.io/docs/concepts/security/pod-security-standards/,
 * policy version latest). Returns the violations, empty when the pod is admitted.
 */
const RESTRICTED_VOLUME_TYPES = new Set([
  'configMap',
  'csi',
  'downwardAPI',
  'emptyDir',
  'ephemeral',
  'persistentVolumeClaim',
  'projected',
  'secret',
]);
const SAFE_SYSCTLS = new Set([
  'kernel.shm_rmid_forced',
  'net.ipv4.ip_local_port_range',
  'net.ipv4.ip_unprivileged_port_start',
  'net.ipv4.tcp_syncookies',
  'net.ipv4.ping_group_range',
  'net.ipv4.ip_local_reserved_ports',
  'net.ipv4.tcp_keepalive_time',
  'net.ipv4.tcp_fin_timeout',
  'net.ipv4.tcp_keepalive_intvl',
  'net.ipv4.tcp_keepalive_probes',
]);
const SELINUX_TYPES = new Set(['', 'container_t', 'container_init_t', 'container_kvm_t', 'container_engine_t']);

export function podSecurityViolations(pod: Record<string, any>): string[] {
  const out: string[] = [];
  const psc = pod.securityContext ?? {};
  const containers: Record<string, any>[] = [
    ...(pod.initContainers ?? []),
    ...(pod.containers ?? []),
    ...(pod.ephemeralContainers ?? []),
  ];

  // baseline
  for (const f of ['hostNetwork', 'hostPID', 'hostIPC']) if (pod[f] === true) out.push(`${f} is true`);
  for (const s of psc.sysctls ?? []) if (!SAFE_SYSCTLS.has(s.name)) out.push(`unsafe sysctl ${s.name}`);
  const seLinux = (o: Record<string, any> | undefined, who: string) => {
    if (!o) return;
    if (!SELINUX_TYPES.has(o.type ?? '')) out.push(`${who}: seLinuxOptions.type ${o.type}`);
    if (o.user || o.role) out.push(`${who}: seLinuxOptions user/role set`);
  };
  seLinux(psc.seLinuxOptions, 'pod');
  const appArmorOk = (p: Record<string, any> | undefined) =>
    !p || p.type === 'RuntimeDefault' || p.type === 'Localhost';
  if (!appArmorOk(psc.appArmorProfile)) out.push('pod: appArmorProfile not RuntimeDefault/Localhost');

  // restricted, pod level
  for (const v of pod.volumes ?? []) {
    const type = Object.keys(v).find((k) => k !== 'name');
    if (!type || !RESTRICTED_VOLUME_TYPES.has(type)) out.push(`volume ${v.name}: type ${type} not allowed`);
  }
  if (psc.runAsNonRoot === false) out.push('pod: runAsNonRoot is false');
  if (psc.runAsUser === 0) out.push('pod: runAsUser is 0');
  const podSeccomp = psc.seccompProfile?.type;
  if (podSeccomp !== undefined && podSeccomp !== 'RuntimeDefault' && podSeccomp !== 'Localhost')
    out.push(`pod: seccompProfile ${podSeccomp}`);

  for (const c of containers) {
    const who = `container ${c.name}`;
    const sc = c.securityContext ?? {};
    // baseline
    if (sc.privileged === true) out.push(`${who}: privileged`);
    for (const p of c.ports ?? []) if (p.hostPort) out.push(`${who}: hostPort ${p.hostPort}`);
    if (sc.procMount !== undefined && sc.procMount !== 'Default') out.push(`${who}: procMount ${sc.procMount}`);
    seLinux(sc.seLinuxOptions, who);
    if (!appArmorOk(sc.appArmorProfile)) out.push(`${who}: appArmorProfile not RuntimeDefault/Localhost`);
    // restricted
    if (sc.allowPrivilegeEscalation !== false) out.push(`${who}: allowPrivilegeEscalation is not false`);
    const nonRoot = sc.runAsNonRoot ?? psc.runAsNonRoot;
    if (nonRoot !== true) out.push(`${who}: runAsNonRoot is not true (pod or container)`);
    if (sc.runAsUser === 0) out.push(`${who}: runAsUser is 0`);
    const seccomp = sc.seccompProfile?.type ?? podSeccomp;
    if (seccomp !== 'RuntimeDefault' && seccomp !== 'Localhost')
      out.push(`${who}: seccompProfile is ${seccomp ?? 'unset'} (pod or container)`);
    const drop: string[] = sc.capabilities?.drop ?? [];
    if (!drop.includes('ALL')) out.push(`${who}: capabilities do not drop ALL`);
    for (const a of sc.capabilities?.add ?? []) if (a !== 'NET_BIND_SERVICE') out.push(`${who}: adds capability ${a}`);
  }
  return out;
}

/** The pod specs of a workload object: Deployment and the like, Job, CronJob, Pod. */
export function podSpecs(o: Record<string, any>): Record<string, any>[] {
  if (o.kind === 'Pod') return [o.spec];
  if (o.kind === 'CronJob') return [o.spec.jobTemplate.spec.template.spec];
  if (['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job'].includes(o.kind)) return [o.spec.template.spec];
  return [];
}

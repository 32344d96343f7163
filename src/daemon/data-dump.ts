// SIGUSR1's keepalived-ts.data in keepalived 2.2.7's layout (/tmp/keepalived.data): the global
// definitions, every VRRP instance with its timers, addresses, trackers and scripts, the VRRP
// scripts and the track files. Same section titles, key names, order and value formats as
// keepalived's dump, so that what operators and support threads read there reads the same here
// (test/netns/ops-data compares the two for one configuration). Lines about what keepalived-ts
// does not have (SNMP, BFD, nftables, DBus, the sockpool, per-process priorities) are left out
// rather than filled with made-up values.
import type { KeepalivedConfig, ScriptCommand, VrrpInstance } from '../config/model.js';
import type { DaemonSnapshot } from './daemon.js';
import type { InstanceStatus } from './instance.js';

const bool = (b: boolean): string => (b ? 'true' : 'false');

/** keepalived's timestamp: "1796301298.655532 (Thu Dec  3 12:34:58.655532 2026)". */
export function kaTime(ms: number): string {
  const d = new Date(ms);
  const us = String(Math.round((ms % 1000) * 1000)).padStart(6, '0');
  const day = d.toLocaleString('en-US', { weekday: 'short' });
  const mon = d.toLocaleString('en-US', { month: 'short' });
  const p = (n: number) => String(n).padStart(2, '0');
  return `${Math.floor(ms / 1000)}.${us} (${day} ${mon} ${String(d.getDate()).padStart(2, ' ')} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${us} ${d.getFullYear()})`;
}

/** An advert interval as keepalived prints it: "1 sec" for whole VRRPv2 seconds, else milli-sec. */
function advertInterval(inst: VrrpInstance): string {
  return inst.version === 2 && inst.advertIntervalCs % 100 === 0
    ? `${inst.advertIntervalCs / 100} sec`
    : `${inst.advertIntervalCs * 10} milli-sec`;
}

/** RFC 5798 Master_Down_Interval, with the priority adverts carry, in microseconds (keepalived's). */
export function masterDownUs(advertIntervalCs: number, priority: number): number {
  const advUs = advertIntervalCs * 10_000;
  return Math.floor(3 * advUs + ((256 - priority) * advUs) / 256);
}

/** '/path/cmd' 'arg', uid:gid 0:0 (keepalived quotes each word). */
function scriptLine(cmd: ScriptCommand, uidGid: string): string {
  return `${cmd.argv.map((a) => `'${a}'`).join(' ')}, uid:gid ${uidGid}`;
}

function globals(cfg: KeepalivedConfig): string {
  const g = cfg.globalDefs;
  const onOff = (v: boolean | undefined) => (v === undefined ? 'unset' : v ? 'on' : 'off');
  const lines = ['------< Global definitions >------', ` Router ID = ${g.routerId ?? ''}`];
  if (g.smtpServer) lines.push(` Smtp server = ${g.smtpServer.host}`, ` Smtp server port = ${g.smtpServer.port}`);
  if (g.smtpHeloName) lines.push(` Smtp HELO name = ${g.smtpHeloName}`);
  if (g.smtpServer) lines.push(` Smtp server connection timeout = ${g.smtpConnectTimeoutS}`);
  if (g.notificationEmailFrom) lines.push(` Email notification from = ${g.notificationEmailFrom}`);
  for (const e of g.notificationEmail) lines.push(` Email notification = ${e}`);
  lines.push(
    ` Default smtp_alert = ${onOff(g.smtpAlert)}`,
    ` Default smtp_alert_vrrp = ${onOff(g.smtpAlertVrrp)}`,
    ` Default smtp_alert_checker = ${onOff(g.smtpAlertChecker)}`,
    ` Dynamic interfaces = ${bool(g.dynamicInterfaces)}`,
    ` Default interface = ${g.defaultInterface}`,
    ` VRRP notify priority changes = ${bool(g.vrrpNotifyPriorityChanges)}`,
    ` VRRP IPv4 mcast group = ${g.vrrpMcastGroup4.address}`,
    ` VRRP IPv6 mcast group = ${g.vrrpMcastGroup6.address}`,
    ` Gratuitous ARP delay = ${g.vrrpGarpMasterDelayS}`,
    ` Gratuitous ARP repeat = ${g.vrrpGarpMasterRepeat}`,
    ` Gratuitous ARP refresh timer = ${g.vrrpGarpMasterRefreshS}`,
    ` Gratuitous ARP refresh repeat = ${g.vrrpGarpMasterRefreshRepeat}`,
    ` Gratuitous ARP lower priority delay = ${g.vrrpGarpLowerPrioDelayS ?? g.vrrpGarpMasterDelayS}`,
    ` Gratuitous ARP lower priority repeat = ${g.vrrpGarpLowerPrioRepeat ?? g.vrrpGarpMasterRepeat}`,
    ` Num adverts before down = ${g.vrrpDownTimerAdverts}`,
    ` Send advert after receive lower priority advert = ${bool(!g.vrrpLowerPrioNoAdvert)}`,
    ` Send advert after receive higher priority advert = ${bool(g.vrrpHigherPrioSendAdvert)}`,
    ` Gratuitous ARP interval = ${(g.vrrpGarpIntervalMs / 1000).toFixed(6)}`,
    ` Gratuitous NA interval = ${(g.vrrpGnaIntervalMs / 1000).toFixed(6)}`,
    ` VRRP default protocol version = ${g.vrrpVersion}`,
    ` VRRP check unicast_src = ${bool(g.vrrpCheckUnicastSrc)}`,
    ` VRRP skip check advert addresses = ${bool(g.vrrpSkipCheckAdvAddr)}`,
    ` VRRP strict mode = ${bool(g.vrrpStrict)}`,
    ` Max auto priority = ${g.maxAutoPriority ?? 0}`,
    ` Script security ${g.enableScriptSecurity ? 'enabled' : 'disabled'}`,
    ` Default script uid:gid ${uidGidOf(cfg)}`,
  );
  return lines.join('\n') + '\n';
}

/** keepalived-ts runs scripts as root unless script_user names another (resolved at run time). */
function uidGidOf(cfg: KeepalivedConfig, cmd?: ScriptCommand): string {
  const user = cmd?.user ?? cfg.globalDefs.scriptUser?.user;
  return !user || user === 'root' ? '0:0' : user;
}

function instance(cfg: KeepalivedConfig, inst: VrrpInstance, st: InstanceStatus | undefined): string {
  const state = st?.state ?? 'INIT';
  const eff = st?.effectivePriority ?? inst.priority;
  const unicast = inst.unicastPeers.length > 0;
  const out = [` VRRP Instance = ${inst.name}`, `   VRRP Version = ${inst.version}`];
  if (inst.family === 'inet6') out.push('   Using Native IPv6');
  out.push(`   State = ${state}`);
  if (unicast) out.push('   Flags:', '     Using unicast');
  else out.push('   Flags: none');
  out.push(`   Wantstate = ${state}`);
  if (st?.lastTransitionMs) out.push(`   Last transition = ${kaTime(st.lastTransitionMs)}`);
  out.push(`   Master down timer = ${masterDownUs(inst.advertIntervalCs, eff)} usecs`);
  out.push(`   Interface = ${st?.interface ?? inst.interface ?? cfg.globalDefs.defaultInterface}`);
  if (inst.sourceIp) out.push(`   Using src_ip = ${inst.sourceIp.address} (from configuration)`);
  else if (st?.srcAddress) out.push(`   Using src_ip = ${st.srcAddress}`);
  // (keepalived adds ", ifindex N" for IPv6)
  if (!unicast) out.push(`   Multicast address ${inst.mcastDstIp.address}`);
  out.push(
    `   Gratuitous ARP delay = ${inst.garpMasterDelayMs / 1000}`,
    `   Gratuitous ARP repeat = ${inst.garpMasterRepeat}`,
    `   Gratuitous ARP refresh = ${inst.garpMasterRefreshMs / 1000}`,
    `   Gratuitous ARP refresh repeat = ${inst.garpMasterRefreshRepeat}`,
    `   Gratuitous ARP lower priority delay = ${inst.garpLowerPrioDelayMs / 1000}`,
    `   Gratuitous ARP lower priority repeat = ${inst.garpLowerPrioRepeat}`,
    `   Down timer adverts = ${inst.downTimerAdverts}`,
    `   Send advert after receive lower priority advert = ${bool(!inst.lowerPrioNoAdvert)}`,
    `   Send advert after receive higher priority advert = ${bool(inst.higherPrioSendAdvert)}`,
    `   Virtual Router ID = ${inst.virtualRouterId}`,
    `   Priority = ${inst.priority}`,
    `   Effective priority = ${eff}`,
    `   Total priority = ${eff}`,
    `   Advert interval = ${advertInterval(inst)}`,
    `   Accept = ${inst.accept ? 'enabled' : 'disabled'}`,
    `   Preempt = ${inst.preempt ? 'enabled' : 'disabled'}`,
  );
  if (inst.preemptDelayMs) out.push(`   Preempt delay = ${inst.preemptDelayMs / 1000} secs`);
  out.push(`   Promote_secondaries = ${inst.promoteSecondaries ? 'enabled' : 'disabled'}`);
  if (inst.version === 2) {
    const auth = inst.authentication;
    out.push(`   Authentication type = ${!auth ? 'none' : auth.authType === 'PASS' ? 'SIMPLE_PASSWORD' : 'IPSEC_AH'}`);
    if (auth) out.push(`   Password = ${auth.authPass}`);
  }
  const vip = (list: VrrpInstance['virtualIpAddresses'], held: boolean) =>
    list.map((a) => {
      const dev = a.dev ?? st?.interface ?? inst.interface ?? '';
      return `     ${a.address}/${a.prefixLength} dev ${dev} scope ${a.scope ?? 'global'}${a.family === 'inet6' ? ' preferred_lft forever' : ''}${held ? ' set' : ''}`;
    });
  const held = state === 'MASTER' && (st?.addressesHeld ?? 0) > 0;
  out.push(`   Virtual IP (${inst.virtualIpAddresses.length}):`, ...vip(inst.virtualIpAddresses, held));
  if (inst.virtualIpAddressesExcluded.length) {
    out.push(`   Virtual IP Excluded (${inst.virtualIpAddressesExcluded.length}):`, ...vip(inst.virtualIpAddressesExcluded, held));
  }
  if (unicast) {
    out.push(`   Unicast TTL = ${inst.unicastTtl}`, `   Check unicast src : ${inst.checkUnicastSrc ? 'yes' : 'no'}`, '   Unicast Peer :');
    for (const p of inst.unicastPeers) out.push(`     ${p.address} min_ttl ${p.minTtl ?? 0} max_ttl ${p.maxTtl ?? 255}`);
    out.push(`   Unicast checksum compatibility = ${inst.oldUnicastChecksum ? 'yes' : 'no'}`);
  }
  const weightOf = (w: number | undefined, def: number | undefined) => w ?? def ?? 0;
  if (inst.trackScripts.length) {
    out.push('   Tracked scripts :');
    for (const t of inst.trackScripts)
      out.push(
        `     ${t.name} weight ${weightOf(t.weight, cfg.vrrpScripts.find((s) => s.name === t.name)?.weight)}${t.reverse ? ' reverse' : ''}`,
      );
  }
  if (inst.trackFiles.length) {
    out.push('   Tracked files :');
    for (const t of inst.trackFiles)
      out.push(
        `     ${t.name}, weight ${weightOf(t.weight, cfg.trackFiles.find((f) => f.name === t.name)?.weight)}${t.reverse ? ' reverse' : ''}`,
      );
  }
  if (inst.trackProcesses.length) {
    out.push('   Tracked processes :');
    for (const t of inst.trackProcesses)
      out.push(
        `     ${t.name}, weight ${weightOf(t.weight, cfg.trackProcesses.find((p) => p.name === t.name)?.weight)}${t.reverse ? ' reverse' : ''}`,
      );
  }
  out.push(`   Using smtp notification = ${inst.smtpAlert ? 'yes' : 'no'}`);
  out.push(`   Notify deleted = ${inst.notifyDeleted ? 'Deleted' : 'Fault'}`);
  const script = (what: string, c: ScriptCommand | undefined) => {
    if (c) out.push(`   ${what} state transition script = ${scriptLine(c, uidGidOf(cfg, c))}`);
  };
  // keepalived's order
  script('Backup', inst.notifyBackup);
  script('Master', inst.notifyMaster);
  script('Fault', inst.notifyFault);
  script('Stop', inst.notifyStop);
  if (inst.notifyDeleted && inst.notifyDeleted !== true) script('Deleted', inst.notifyDeleted);
  script('Generic', inst.notify);
  if (inst.notifyMasterRxLowerPri)
    out.push(
      `   Master receive lower priority script = ${scriptLine(inst.notifyMasterRxLowerPri, uidGidOf(cfg, inst.notifyMasterRxLowerPri))}`,
    );
  out.push(`   Notify priority changes = ${bool(inst.notifyPriorityChanges)}`);
  return out.join('\n') + '\n';
}

/** Which instances track a tracker, and with what weight (the instance's, else the tracker's). */
function tracking(cfg: KeepalivedConfig, kind: 'trackScripts' | 'trackFiles', name: string, defWeight: number): string[] {
  const out: string[] = [];
  for (const inst of cfg.vrrpInstances) {
    const t = inst[kind].find((x) => x.name === name);
    if (t) out.push(`     ${inst.name}, weight ${t.weight ?? defWeight}`);
  }
  return out;
}

/** The whole dump: keepalived's sections, in its order. */
export function formatKeepalivedData(s: DaemonSnapshot, cfg: KeepalivedConfig): string {
  let out = globals(cfg);
  out += '------< VRRP Topology >------\n';
  for (const inst of cfg.vrrpInstances)
    out += instance(
      cfg,
      inst,
      s.instances.find((i) => i.name === inst.name),
    );
  if (cfg.vrrpScripts.length) {
    out += '------< VRRP Scripts >------\n';
    for (const sc of cfg.vrrpScripts) {
      const t = s.trackers.find((x) => x.kind === 'script' && x.name === sc.name);
      const lines = [
        ` VRRP Script = ${sc.name}`,
        `   Command = ${sc.script.argv.map((a) => `'${a}'`).join(' ')}`,
        `   Interval = ${sc.intervalMs / 1000} sec`,
        `   Timeout = ${sc.timeoutMs / 1000} sec`,
        `   Weight = ${sc.weight}${sc.reverse ? ' reverse' : ''}`,
        `   Rise = ${sc.rise}`,
        `   Fall = ${sc.fall}`,
        `   Init state = ${sc.initFail ? 'failed' : 'unknown'}`,
        `   Status = ${t?.status === 'ok' ? 'GOOD' : t?.status === 'failed' ? 'BAD' : 'INIT'}`,
        `   Script uid:gid = ${uidGidOf(cfg, sc.script)}`,
        '   Tracking instances :',
        ...tracking(cfg, 'trackScripts', sc.name, sc.weight),
      ];
      out += lines.join('\n') + '\n';
    }
  }
  if (cfg.trackFiles.length) {
    out += '------< VRRP Track files >------\n';
    for (const f of cfg.trackFiles) {
      const t = s.trackers.find((x) => x.kind === 'file' && x.name === f.name);
      out +=
        [
          ` Track file = ${f.name}`,
          `   File = ${f.path}`,
          `   Status = ${t?.value ?? 0}`,
          `   Weight = ${f.weight}${f.reverse ? ' reverse' : ''}`,
          '   Tracking instances :',
          ...tracking(cfg, 'trackFiles', f.name, f.weight),
        ].join('\n') + '\n';
    }
  }
  if (cfg.vrrpInstances.length) {
    // keepalived's Interfaces section, the part that is configuration: who tracks which interface
    // (its instance's own interface with weight 0, then track_interface)
    out += '------< Interfaces >------\n';
    const byIf = new Map<string, string[]>();
    for (const inst of cfg.vrrpInstances) {
      const own = s.instances.find((i) => i.name === inst.name)?.interface ?? inst.interface ?? cfg.globalDefs.defaultInterface;
      const add = (ifname: string, line: string) => {
        if (!byIf.has(ifname)) byIf.set(ifname, []);
        byIf.get(ifname)!.push(line);
      };
      if (!inst.dontTrackPrimary) add(own, `     ${inst.name}, weight 0`);
      for (const t of inst.trackInterfaces)
        if (!(t.name === own && !inst.dontTrackPrimary)) add(t.name, `     ${inst.name}, weight ${t.weight}${t.reverse ? ' reverse' : ''}`);
    }
    for (const [ifname, lines] of byIf) out += [` Name = ${ifname}`, '   Tracking VRRP instances :', ...lines].join('\n') + '\n';
  }
  return out + formatLvsTopology(s);
}

/** The LVS side (keepalived's check process dumps its virtual servers the same way); '' without LVS. */
export function formatLvsTopology(s: DaemonSnapshot): string {
  if (!s.lvs || s.lvs.state === 'off') return '';
  let out = `------< LVS Topology >------\n IPVS = ${s.lvs.state === 'running' ? `running, version ${s.lvs.version ?? '?'}` : `unavailable (${s.lvs.reason ?? ''})`}\n`;
  for (const v of s.lvs.virtualServers) {
    const c = s.lvs.counters?.[v.name];
    out += ` VS = ${v.name}\n   Services = ${v.services.join(', ')}\n   Quorum = ${v.quorum}, hysteresis = ${v.hysteresis}, ${v.quorumUp ? 'up' : 'DOWN'}, alive weight ${v.aliveWeight}\n`;
    out += `   Sorry server active = ${v.sorryActive ? 'yes' : 'no'}\n`;
    if (c) out += `   Connections = ${c.conns}, packets in/out = ${c.inPkts}/${c.outPkts}, bytes in/out = ${c.inBytes}/${c.outBytes}\n`;
    for (const r of v.realServers)
      out += `   RS = ${r.name}, ${r.alive ? 'up' : 'down'}, weight ${r.weight}, ${r.inTable ? 'in table' : 'not in table'}\n`;
  }
  return out;
}

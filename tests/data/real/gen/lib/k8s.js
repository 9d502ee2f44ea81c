'use strict';
// HAND-CRAFTED Kubernetes objects (no cluster here): the shape that
// `kubectl get pod -o json` and `kubectl get events -o json` (items, one per
// line) print for a container killed by the OOM killer. Timestamps and the
// killed pid come from the real run so they line up with the Node logs.
const { randomUUID } = require('crypto');

const iso = (ms) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

function podAndEvents({ killedPid, startedAt, finishedAt, restartedAt }) {
  const ns = 'agents';
  const pod = 'agent-7d9f6c5b8-x2kqp';
  const node = 'gke-prod-pool-2-4c1f9a7e-kq3m';
  const podUid = randomUUID();
  const cid = (s) => `containerd://${Buffer.from(s + podUid).toString('hex').slice(0, 64).padEnd(64, '0')}`;
  const podJson = {
    apiVersion: 'v1', kind: 'Pod',
    metadata: {
      name: pod, namespace: ns, uid: podUid, resourceVersion: '48213377', creationTimestamp: iso(startedAt - 3600e3),
      generateName: 'agent-7d9f6c5b8-', labels: { app: 'agent', 'pod-template-hash': '7d9f6c5b8' },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'agent-7d9f6c5b8', uid: randomUUID(), controller: true, blockOwnerDeletion: true }],
    },
    spec: {
      nodeName: node, restartPolicy: 'Always',
      containers: [
        { name: 'agent', image: 'ghcr.io/acme/agent:2.14.0', resources: { limits: { memory: '1Gi' }, requests: { cpu: '500m', memory: '512Mi' } } },
        { name: 'tool-sandbox', image: 'ghcr.io/acme/tool-sandbox:1.8.2', resources: { limits: { memory: '512Mi' }, requests: { cpu: '250m', memory: '256Mi' } } },
      ],
    },
    status: {
      phase: 'Running', qosClass: 'Burstable', hostIP: '10.128.0.41', podIP: '10.52.3.17', startTime: iso(startedAt - 3600e3),
      conditions: [
        { type: 'Initialized', status: 'True', lastProbeTime: null, lastTransitionTime: iso(startedAt - 3600e3) },
        { type: 'Ready', status: 'True', lastProbeTime: null, lastTransitionTime: iso(restartedAt) },
        { type: 'ContainersReady', status: 'True', lastProbeTime: null, lastTransitionTime: iso(restartedAt) },
        { type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: iso(startedAt - 3600e3) },
      ],
      containerStatuses: [
        { name: 'agent', image: 'ghcr.io/acme/agent:2.14.0', imageID: 'ghcr.io/acme/agent@sha256:4f6c1a0e9b7d', containerID: cid('agent'), ready: true, started: true, restartCount: 0, lastState: {}, state: { running: { startedAt: iso(startedAt - 3590e3) } } },
        {
          name: 'tool-sandbox', image: 'ghcr.io/acme/tool-sandbox:1.8.2', imageID: 'ghcr.io/acme/tool-sandbox@sha256:9e2b7c3d1a55', containerID: cid('sandbox-2'),
          ready: true, started: true, restartCount: 1,
          lastState: { terminated: { exitCode: 137, reason: 'OOMKilled', startedAt: iso(startedAt), finishedAt: iso(finishedAt), containerID: cid('sandbox-1') } },
          state: { running: { startedAt: iso(restartedAt) } },
        },
      ],
    },
  };
  const ev = (reason, type, message, at, involved, source) => ({
    apiVersion: 'v1', kind: 'Event',
    metadata: { name: `${involved.name}.${(at * 1e3).toString(16).slice(0, 16)}`, namespace: involved.namespace || 'default', uid: randomUUID(), resourceVersion: String(48213300 + Math.floor(at % 97)), creationTimestamp: iso(at) },
    involvedObject: involved, reason, message, source,
    firstTimestamp: iso(at), lastTimestamp: iso(at), count: 1, type, eventTime: null,
    reportingComponent: source.component, reportingInstance: source.host,
  });
  const podRef = { kind: 'Pod', namespace: ns, name: pod, uid: podUid, apiVersion: 'v1', resourceVersion: '48213377', fieldPath: 'spec.containers{tool-sandbox}' };
  const kubelet = { component: 'kubelet', host: node };
  const events = [
    ev('OOMKilling', 'Warning', `Memory cgroup out of memory: Killed process ${killedPid} (node) total-vm:1318124kB, anon-rss:520112kB, file-rss:41004kB, shmem-rss:0kB, UID:1000 pgtables:1620kB oom_score_adj:999`, finishedAt, { kind: 'Node', name: node, uid: node, apiVersion: 'v1' }, { component: 'kernel-monitor', host: node }),
    ev('Pulled', 'Normal', 'Container image "ghcr.io/acme/tool-sandbox:1.8.2" already present on machine', restartedAt - 400, podRef, kubelet),
    ev('Created', 'Normal', 'Created container tool-sandbox', restartedAt - 200, podRef, kubelet),
    ev('Started', 'Normal', 'Started container tool-sandbox', restartedAt, podRef, kubelet),
  ];
  return { podJson, events };
}
module.exports = { podAndEvents };

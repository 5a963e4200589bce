{{/*
One kubescim Deployment. Called with (dict "root" $ "component" C), C being
  scim        the SCIM front end: every replica serves SCIM, no leader election, no RBAC writes;
  controller  the controllers: leader-elected, no SCIM listener, only metrics and probes;
  combined    both in one process (components.combined), the single-Deployment layout.
The SCIM and combined Deployments keep the name and selector of the single-Deployment chart, so
`helm upgrade` rolls the old pods over instead of replacing the Deployment. With mode=member the
controllers also mirror the hub, through the kubeconfig in fleet.hubKubeconfigSecret.
*/}}
{{- define "kubescim.deployment" -}}
{{- $ := .root -}}
{{- $c := .component -}}
{{- $serves := ne $c "controller" -}}
{{- $controls := ne $c "scim" -}}
{{- $member := and $controls (eq $.Values.mode "member") -}}
{{- $selector := include "kubescim.selectorLabels" $ -}}
{{- $name := include "kubescim.fullname" $ -}}
{{- $replicas := $.Values.replicaCount -}}
{{- $sa := include "kubescim.serviceAccountName" $ -}}
{{- $resources := $.Values.resources -}}
{{- $components := "scim" -}}
{{- if eq $c "controller" }}
{{- $selector = include "kubescim.controllerSelectorLabels" $ -}}
{{- $name = include "kubescim.controllerFullname" $ -}}
{{- $replicas = $.Values.controller.replicaCount -}}
{{- $sa = include "kubescim.controllerServiceAccountName" $ -}}
{{- $resources = $.Values.controller.resources -}}
{{- $components = "controllers" -}}
{{- else if eq $c "combined" }}
{{- $components = "scim,controllers" -}}
{{- end }}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ $name }}
  namespace: {{ $.Release.Namespace }}
  labels:
    {{- include "kubescim.labels" $ | nindent 4 }}
    app.kubernetes.io/component: {{ $c }}
spec:
  replicas: {{ $replicas }}
  selector:
    matchLabels:
      {{- $selector | nindent 6 }}
  template:
    metadata:
      labels:
        {{- $selector | nindent 8 }}
        app.kubernetes.io/part-of: {{ include "kubescim.name" $ }}
        app.kubernetes.io/component: {{ $c }}
        {{- with $.Values.podLabels }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      {{- with $.Values.podAnnotations }}
      annotations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
    spec:
      serviceAccountName: {{ $sa }}
      {{- with $.Values.imagePullSecrets }}
      imagePullSecrets:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $.Values.priorityClassName }}
      priorityClassName: {{ . }}
      {{- end }}
      terminationGracePeriodSeconds: {{ include "kubescim.terminationGracePeriodSeconds" $ }}
      securityContext:
        runAsNonRoot: true
        runAsUser: 65532
        runAsGroup: 65532
        seccompProfile:
          type: RuntimeDefault
      containers:
      - name: manager
        image: "{{ $.Values.image.repository }}:{{ $.Values.image.tag | default $.Chart.AppVersion }}"
        imagePullPolicy: {{ $.Values.image.pullPolicy }}
        args:
        - --components={{ $components }}
        - --metrics-bind-address=:9090
        - --health-probe-bind-address=:8081
        - --shutdown-delay={{ int $.Values.shutdown.delaySeconds }}s
        - --shutdown-timeout={{ int $.Values.shutdown.timeoutSeconds }}s
        {{- if $serves }}
        - --scim-bind-address=:{{ include "kubescim.scimPort" $ }}
        - --scim-token-secret={{ $.Release.Namespace }}/{{ include "kubescim.tokenSecretName" $ }}
        {{- if $.Values.scim.tls.enabled }}
        - --scim-tls-cert-file=/etc/kubescim/tls/tls.crt
        - --scim-tls-key-file=/etc/kubescim/tls/tls.key
        {{- end }}
        - --scim-max-body-bytes={{ int64 $.Values.scim.maxBodyBytes }}
        - --scim-rate-limit={{ $.Values.scim.rateLimit }}
        - --scim-rate-burst={{ int64 $.Values.scim.rateBurst }}
        - --scim-max-bulk-operations={{ int64 $.Values.scim.maxBulkOperations }}
        - --scim-trust-forwarded-headers={{ $.Values.scim.trustForwardedHeaders }}
        {{- /* Free-text values are quoted: "oidc:" unquoted would parse as a YAML mapping. */}}
        {{- with include "kubescim.externalURL" $ }}
        - {{ printf "--scim-external-url=%s" . | quote }}
        {{- end }}
        {{- end }}
        {{- if $controls }}
        - --leader-elect={{ $.Values.leaderElection.enabled }}
        - --leader-election-namespace={{ $.Release.Namespace }}
        - --subject-attribute={{ $.Values.subject.attribute }}
        {{- with $.Values.subject.prefix }}
        - {{ printf "--subject-prefix=%s" . | quote }}
        {{- end }}
        - --service-accounts={{ $.Values.serviceAccounts.enabled }}
        - --service-account-namespace={{ $.Values.serviceAccounts.namespace }}
        - --bindable-roles={{ include "kubescim.bindableRolesFlag" $ }}
        - --max-subjects-per-binding={{ int64 $.Values.maxSubjectsPerBinding }}
        {{- if $.Values.authzWebhook.enabled }}
        - --authz-webhook-bind-address=:{{ int $.Values.authzWebhook.port }}
        - --authz-webhook-tls-cert-file=/etc/kubescim/authz-webhook/tls.crt
        - --authz-webhook-tls-key-file=/etc/kubescim/authz-webhook/tls.key
        - --authz-webhook-client-ca=/etc/kubescim/authz-webhook/ca.crt
        {{- end }}
        {{- end }}
        {{- if $member }}
        - --hub-kubeconfig=/etc/kubescim/hub/kubeconfig
        - {{ printf "--cluster-name=%s" $.Values.fleet.clusterName | quote }}
        - --hub-unreachable-policy={{ $.Values.fleet.unreachablePolicy }}
        - --hub-grace-period={{ $.Values.fleet.gracePeriod }}
        - --hub-heartbeat={{ $.Values.fleet.heartbeat }}
        {{- end }}
        - --zap-log-level={{ $.Values.logging.level }}
        - --zap-encoder={{ $.Values.logging.encoder }}
        {{- range $.Values.extraArgs }}
        - {{ . | quote }}
        {{- end }}
        env:
        {{- /* kubescim sets the Go runtime's soft memory limit to 90% of this (memlimit.go). */}}
        - name: KUBESCIM_MEMORY_LIMIT
          valueFrom:
            resourceFieldRef:
              containerName: manager
              resource: limits.memory
        ports:
        {{- if $serves }}
        - name: scim
          containerPort: {{ include "kubescim.scimPort" $ }}
          protocol: TCP
        {{- end }}
        {{- if and $controls $.Values.authzWebhook.enabled }}
        - name: authz-webhook
          containerPort: {{ int $.Values.authzWebhook.port }}
          protocol: TCP
        {{- end }}
        - name: metrics
          containerPort: 9090
          protocol: TCP
        - name: probes
          containerPort: 8081
          protocol: TCP
        livenessProbe:
          httpGet:
            path: /healthz
            port: probes
          initialDelaySeconds: 10
          periodSeconds: 20
        readinessProbe:
          httpGet:
            path: /readyz
            port: probes
          initialDelaySeconds: 5
          periodSeconds: 10
        securityContext:
          runAsNonRoot: true
          readOnlyRootFilesystem: true
          allowPrivilegeEscalation: false
          capabilities:
            drop:
            - ALL
          seccompProfile:
            type: RuntimeDefault
        {{- with $resources }}
        resources:
          {{- toYaml . | nindent 10 }}
        {{- end }}
        volumeMounts:
        - name: tmp
          mountPath: /tmp
        {{- if and $serves $.Values.scim.tls.enabled }}
        - name: scim-tls
          mountPath: /etc/kubescim/tls
          readOnly: true
        {{- end }}
        {{- if and $controls $.Values.authzWebhook.enabled }}
        - name: authz-webhook
          mountPath: /etc/kubescim/authz-webhook
          readOnly: true
        {{- end }}
        {{- if $member }}
        - name: hub-kubeconfig
          mountPath: /etc/kubescim/hub
          readOnly: true
        {{- end }}
      volumes:
      - name: tmp
        emptyDir: {}
      {{- if and $serves $.Values.scim.tls.enabled }}
      - name: scim-tls
        secret:
          secretName: {{ include "kubescim.tlsSecretName" $ }}
      {{- end }}
      {{- if and $controls $.Values.authzWebhook.enabled }}
      - name: authz-webhook
        secret:
          secretName: {{ required "authzWebhook.secretName is required with authzWebhook.enabled" $.Values.authzWebhook.secretName }}
      {{- end }}
      {{- if $member }}
      - name: hub-kubeconfig
        secret:
          secretName: {{ $.Values.fleet.hubKubeconfigSecret }}
          items:
          - key: kubeconfig
            path: kubeconfig
      {{- end }}
      {{- with $.Values.nodeSelector }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $.Values.affinity }}
      affinity:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $.Values.tolerations }}
      tolerations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      topologySpreadConstraints:
      {{- if $.Values.topologySpreadConstraints }}
        {{- toYaml $.Values.topologySpreadConstraints | nindent 8 }}
      {{- else }}
      - maxSkew: 1
        topologyKey: kubernetes.io/hostname
        whenUnsatisfiable: ScheduleAnyway
        labelSelector:
          matchLabels:
            {{- $selector | nindent 12 }}
      {{- end }}
{{- end }}

{{/* Chart name, overridable. */}}
{{- define "kubescim.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Fully qualified release name, at most 63 characters. */}}
{{- define "kubescim.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else if contains (include "kubescim.name" .) .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name (include "kubescim.name" .) | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}

{{- define "kubescim.selectorLabels" -}}
app.kubernetes.io/name: {{ include "kubescim.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "kubescim.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "kubescim.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "kubescim.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "kubescim.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The Secret holding the SCIM bearer tokens. */}}
{{- define "kubescim.tokenSecretName" -}}
{{- default (printf "%s-scim-token" (include "kubescim.fullname" .)) .Values.scim.token.existingSecret }}
{{- end }}

{{/*
The base URL for meta.location and $ref: scim.externalURL, else the Ingress host over HTTPS, so
that locations never come from what a client put in its request.
*/}}
{{- define "kubescim.externalURL" -}}
{{- if .Values.scim.externalURL }}
{{- .Values.scim.externalURL }}
{{- else if .Values.ingress.enabled }}
{{- printf "https://%s" .Values.ingress.host }}
{{- end }}
{{- end }}

{{/* The SCIM container port: 8443 with TLS, 8080 without. */}}
{{- define "kubescim.scimPort" -}}
{{- if .Values.scim.tls.enabled }}8443{{ else }}8080{{ end }}
{{- end }}

{{/*
rbac.bindableRoles split by kind, as a dict {"ClusterRole": [names], "Role": [names]}.
A bare name is a ClusterRole.
*/}}
{{- define "kubescim.bindableRolesByKind" -}}
{{- $cluster := list }}
{{- $namespaced := list }}
{{- range .Values.rbac.bindableRoles }}
{{- if hasPrefix "Role/" . }}
{{- $namespaced = append $namespaced (trimPrefix "Role/" .) }}
{{- else }}
{{- $cluster = append $cluster (trimPrefix "ClusterRole/" .) }}
{{- end }}
{{- end }}
{{- toJson (dict "ClusterRole" $cluster "Role" $namespaced) }}
{{- end }}

{{/* rbac.bindableRoles as the manager's --bindable-roles value: "ClusterRole/view,Role/x". */}}
{{- define "kubescim.bindableRolesFlag" -}}
{{- $byKind := include "kubescim.bindableRolesByKind" . | fromJson }}
{{- $out := list }}
{{- range $byKind.ClusterRole }}{{ $out = append $out (printf "ClusterRole/%s" .) }}{{ end }}
{{- range $byKind.Role }}{{ $out = append $out (printf "Role/%s" .) }}{{ end }}
{{- join "," $out }}
{{- end }}

{{/*
The controllers' Deployment and pods are named FULLNAME-controller and carry their own
app.kubernetes.io/name, so that the SCIM Deployment's selector (unchanged since the
single-Deployment chart, and immutable) never matches them.
*/}}
{{- define "kubescim.controllerFullname" -}}
{{- printf "%s-controller" (include "kubescim.fullname" . | trunc 52 | trimSuffix "-") }}
{{- end }}

{{- define "kubescim.controllerSelectorLabels" -}}
app.kubernetes.io/name: {{ printf "%s-controller" (include "kubescim.name" . | trunc 52 | trimSuffix "-") }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* Selects every kubescim pod of the release, whatever its component (the metrics Service). */}}
{{- define "kubescim.partOfSelectorLabels" -}}
app.kubernetes.io/part-of: {{ include "kubescim.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* The controllers' ServiceAccount: with components.combined, the one ServiceAccount. */}}
{{- define "kubescim.controllerServiceAccountName" -}}
{{- if .Values.components.combined }}
{{- include "kubescim.serviceAccountName" . }}
{{- else if .Values.controller.serviceAccount.create }}
{{- default (include "kubescim.controllerFullname" .) .Values.controller.serviceAccount.name }}
{{- else }}
{{- required "controller.serviceAccount.name is required when controller.serviceAccount.create is false" .Values.controller.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The API server's username of the controllers' ServiceAccount. */}}
{{- define "kubescim.controllerUsername" -}}
{{- printf "system:serviceaccount:%s:%s" .Release.Namespace (include "kubescim.controllerServiceAccountName" .) }}
{{- end }}

{{/*
terminationGracePeriodSeconds: the SCIM drain (--shutdown-timeout, the delay included, then 2s
for the requests cut short to get their 503), the manager's 5s margin to stop the controllers and
release the Lease, and 3s to spare, so the kubelet never SIGKILLs a replica that is still draining.
*/}}
{{- define "kubescim.terminationGracePeriodSeconds" -}}
{{- if ge (int .Values.shutdown.delaySeconds) (int .Values.shutdown.timeoutSeconds) }}
{{- fail "shutdown.delaySeconds must be shorter than shutdown.timeoutSeconds" }}
{{- end }}
{{- add (int .Values.shutdown.timeoutSeconds) 10 }}
{{- end }}

{{/* The kubernetes.io/tls Secret the SCIM front end serves: scim.tls.secretName, else the one the cert-manager Certificate writes. */}}
{{- define "kubescim.tlsSecretName" -}}
{{- if .Values.scim.tls.secretName }}
{{- .Values.scim.tls.secretName }}
{{- else if .Values.scim.tls.certManager.enabled }}
{{- printf "%s-scim-tls" (include "kubescim.fullname" .) }}
{{- else }}
{{- fail "scim.tls.enabled needs scim.tls.secretName or scim.tls.certManager.enabled" }}
{{- end }}
{{- end }}

{{/* "true" when this installation runs the SCIM front end: every mode but member. */}}
{{- define "kubescim.servesSCIM" -}}
{{- if ne .Values.mode "member" }}true{{ end }}
{{- end }}

{{/*
Refuses values that cannot work together, whatever else renders: a member runs the controllers
alone, and cannot start without its name and the hub's kubeconfig.
*/}}
{{- define "kubescim.validateMode" -}}
{{- if eq .Values.mode "member" }}
{{- if .Values.components.combined }}
{{- fail "mode=member runs the controllers only (the hub serves SCIM): components.combined must be false" }}
{{- end }}
{{- if not .Values.fleet.clusterName }}
{{- fail "mode=member needs fleet.clusterName: this member's name in the fleet, as given to `kubescim join`" }}
{{- end }}
{{- if not .Values.fleet.hubKubeconfigSecret }}
{{- fail "mode=member needs fleet.hubKubeconfigSecret: a Secret whose key kubeconfig is the file `kubescim join` wrote" }}
{{- end }}
{{- end }}
{{- end }}

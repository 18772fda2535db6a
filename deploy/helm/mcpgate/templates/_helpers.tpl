{{/* Names, labels and the secret plumbing shared by every template. */}}

{{- define "mcpgate.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "mcpgate.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "mcpgate.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Labels of every object; `component` is passed as (dict "root" $ "component" "gateway"). */}}
{{- define "mcpgate.labels" -}}
helm.sh/chart: {{ include "mcpgate.chart" .root }}
{{ include "mcpgate.selectorLabels" . }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/part-of: mcpgate
{{- end -}}

{{- define "mcpgate.selectorLabels" -}}
app.kubernetes.io/name: {{ include "mcpgate.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "mcpgate.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{/* The value of `key` in the Secret `name` as it is in the cluster now (empty under `helm template`): generated secrets survive upgrades. */}}
{{- define "mcpgate.keep" -}}
{{- $secret := lookup "v1" "Secret" .ns .name -}}
{{- if and $secret $secret.data -}}
{{- if hasKey $secret.data .key -}}{{ index $secret.data .key | b64dec }}{{- end -}}
{{- end -}}
{{- end -}}

{{- define "mcpgate.authSecret" -}}
{{- default (printf "%s-auth" (include "mcpgate.fullname" .)) .Values.auth.existingSecret -}}
{{- end -}}

{{- define "mcpgate.dbSecret" -}}
{{- if and (not .Values.database.bundled) .Values.database.existingSecret -}}{{ .Values.database.existingSecret }}{{- else -}}{{ printf "%s-db" (include "mcpgate.fullname" .) }}{{- end -}}
{{- end -}}

{{- define "mcpgate.dbSecretKey" -}}
{{- if and (not .Values.database.bundled) .Values.database.existingSecret -}}{{ .Values.database.existingSecretKey }}{{- else -}}db-url{{- end -}}
{{- end -}}

{{- define "mcpgate.redisSecret" -}}
{{- if and (not .Values.redis.bundled) .Values.redis.existingSecret -}}{{ .Values.redis.existingSecret }}{{- else -}}{{ printf "%s-redis" (include "mcpgate.fullname" .) }}{{- end -}}
{{- end -}}

{{- define "mcpgate.redisSecretKey" -}}
{{- if and (not .Values.redis.bundled) .Values.redis.existingSecret -}}{{ .Values.redis.existingSecretKey }}{{- else -}}redis-url{{- end -}}
{{- end -}}

{{/* Checks that stop a release that could not work. */}}
{{- define "mcpgate.validate" -}}
{{- if and (not .Values.database.bundled) (not .Values.database.url) (not .Values.database.existingSecret) -}}
{{- fail "database: set database.url or database.existingSecret, or database.bundled=true (registry nodes share one PostgreSQL or MySQL database)" -}}
{{- end -}}
{{- if and (not .Values.redis.bundled) (not .Values.redis.url) (not .Values.redis.existingSecret) -}}
{{- fail "redis: set redis.url or redis.existingSecret, or redis.bundled=true (gateway replicas share sessions in Redis)" -}}
{{- end -}}
{{- if and .Values.database.url (not (regexMatch "^(postgres(ql)?|mysql|mariadb)://" .Values.database.url)) -}}
{{- fail "database.url must be a postgres://, postgresql://, mysql:// or mariadb:// URL (SQLite cannot be shared by several registry nodes)" -}}
{{- end -}}
{{- if and .Values.redis.url (not (regexMatch "^rediss?://" .Values.redis.url)) -}}
{{- fail "redis.url must be a redis:// or rediss:// URL" -}}
{{- end -}}
{{- if and .Values.auth.gatewayToken (not (regexMatch "^mgt_[A-Za-z0-9_-]{32,}$" .Values.auth.gatewayToken)) -}}
{{- fail "auth.gatewayToken must be mgt_ followed by at least 32 of A-Z a-z 0-9 _ -" -}}
{{- end -}}
{{- if ge (add .Values.gateway.shutdown.delaySeconds .Values.gateway.shutdown.timeoutSeconds) (int .Values.gateway.terminationGracePeriodSeconds) -}}
{{- fail "gateway.shutdown.delaySeconds + gateway.shutdown.timeoutSeconds must be below gateway.terminationGracePeriodSeconds (Kubernetes kills the pod then, cutting the drain)" -}}
{{- end -}}
{{- end -}}

{{/* Probes of an mcpgate container on `port` (a container port name). */}}
{{- define "mcpgate.probes" -}}
startupProbe:
  httpGet: { path: /healthz, port: {{ . }} }
  periodSeconds: 2
  failureThreshold: 60
livenessProbe:
  httpGet: { path: /healthz, port: {{ . }} }
  periodSeconds: 10
  timeoutSeconds: 3
  failureThreshold: 3
readinessProbe:
  httpGet: { path: /readyz, port: {{ . }} }
  periodSeconds: 5
  timeoutSeconds: 3
  failureThreshold: 2
{{- end -}}

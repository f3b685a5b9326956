# qualitymon: multi-stage build. The builder compiles a static binary (the
# plans, catalogue and regions are embedded); the runtime is a small Alpine
# image whose busybox wget serves the compose health check.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/qualitymon ./cmd/qualitymon

FROM alpine:3.22
RUN apk add --no-cache ca-certificates tzdata \
 && adduser -D -H -u 10001 qualitymon \
 && mkdir -p /var/lib/qualitymon/spool /var/lib/qualitymon/uploads /etc/qualitymon \
 && chown -R qualitymon /var/lib/qualitymon
COPY --from=build /out/qualitymon /usr/local/bin/qualitymon
COPY qualitymon.yaml /etc/qualitymon/qualitymon.yaml
USER qualitymon
WORKDIR /var/lib/qualitymon
EXPOSE 9737
ENV QUALITYMON_CONFIG=/etc/qualitymon/qualitymon.yaml
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s \
  CMD wget -q -O /dev/null http://127.0.0.1:9737/readyz || exit 1
ENTRYPOINT ["qualitymon"]
CMD ["serve"]

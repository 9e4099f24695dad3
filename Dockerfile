# A small image that runs performchat as a non-root user, with its SQLite
# database on a volume. Build: docker build -t performchat .
# .ci/run runs this file's build command (the RUN below) and lints the file.

FROM rust:1.88-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin performchat \
 && mkdir -p /out/data \
 && cp target/release/performchat /out/performchat

# glibc, libgcc and CA certificates, no shell, no package manager; runs as
# the unprivileged "nonroot" user (uid 65532).
FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /out/performchat /usr/local/bin/performchat
COPY --from=build --chown=65532:65532 /out/data /data
WORKDIR /data
ENV PERFORMCHAT_LISTEN=0.0.0.0:8080 \
    PERFORMCHAT_DATABASE_URL=sqlite:///data/performchat.db
EXPOSE 8080
VOLUME ["/data"]
USER nonroot
ENTRYPOINT ["/usr/local/bin/performchat"]
CMD ["serve"]

FROM python:3.11-slim
RUN apt-get update && apt-get install -y --no-install-recommends libreoffice-writer-nogui fonts-crosextra-carlito postgresql-client \
    fonts-crosextra-caladea && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml ./
COPY srpp ./srpp
COPY workers ./workers
COPY templates ./templates
COPY static ./static
COPY clause_library ./clause_library
RUN pip install --no-cache-dir -e . && pybabel compile -d srpp/translations \
    && mkdir -p /app/instance /data/files && chown nobody /app/instance /data/files
ENV PYTHONUNBUFFERED=1
USER nobody
EXPOSE 8000
CMD ["gunicorn", "--bind", "0.0.0.0:8000", "srpp:create_app()"]

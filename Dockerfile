FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    VAR_DIR=/app/var

WORKDIR /app
COPY requirements.txt requirements.lock ./
RUN pip install --require-hashes -r requirements.lock

COPY . .
RUN DEBUG=true python manage.py collectstatic --noinput \
    && useradd --create-home --uid 1000 shop \
    && mkdir -p /app/var && chown -R shop /app/var
USER shop

EXPOSE 8000
CMD ["gunicorn", "pecshop.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]

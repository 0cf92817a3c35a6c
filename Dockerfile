# The runner image: what ECS Fargate runs for each job (python -m shiftwork.runner, the job id in its env).
FROM public.ecr.aws/docker/library/python:3.12-slim
WORKDIR /opt/shiftwork
COPY pyproject.toml README.md ./
COPY src ./src
RUN pip install --no-cache-dir '.[runner]' && python -m ipykernel install --sys-prefix --name python3
RUN useradd --create-home runner
USER runner
WORKDIR /home/runner
ENTRYPOINT ["python", "-m", "shiftwork.runner"]

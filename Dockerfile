# The runner image: what ECS Fargate runs for each job (python -m shiftwork.runner, the job id in its env) and for
# each workflow task (the launcher's command override: python -m shiftwork.runner JOB_ID --task TASK_ID).
FROM public.ecr.aws/docker/library/python:3.12-slim
WORKDIR /opt/shiftwork
COPY pyproject.toml README.md ./
COPY src ./src
RUN pip install --no-cache-dir '.[runner]' && python -m ipykernel install --sys-prefix --name python3
RUN useradd --create-home runner
USER runner
WORKDIR /home/runner
# CMD, not ENTRYPOINT: ECS appends a command (the task definition's, or RunTask's override) to an ENTRYPOINT, which
# would run `python -m shiftwork.runner python -m shiftwork.runner ...`; a CMD is replaced by it whole
CMD ["python", "-m", "shiftwork.runner"]

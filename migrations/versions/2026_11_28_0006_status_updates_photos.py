"""status update authors, photos, and history that cannot be rewritten

Revision ID: 0006
Revises: 0002
Create Date: 2026-11-28 18:30:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0002'
branch_labels = None
depends_on = None


# History is appended, never rewritten: even a bug or a hand-typed statement cannot
# change or remove an update or its photos. Rows may only go when their parent is
# already gone, which is how deleting a whole project cascades through them.
APPEND_ONLY_FUNCTIONS = """
CREATE FUNCTION status_updates_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND NOT EXISTS (SELECT 1 FROM projects WHERE id = OLD.project_id) THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'status_updates is append-only: % refused (a correction is a new update)', TG_OP
        USING ERRCODE = 'restrict_violation';
END;
$$;

CREATE FUNCTION photos_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND NOT EXISTS (SELECT 1 FROM status_updates WHERE id = OLD.update_id) THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'photos is append-only: % refused', TG_OP
        USING ERRCODE = 'restrict_violation';
END;
$$;
"""


def upgrade() -> None:
    # No ON DELETE action: a user who wrote history is deactivated, never deleted.
    op.add_column('status_updates', sa.Column('author_id', sa.Integer(), nullable=True))
    op.create_foreign_key(
        op.f('fk_status_updates_author_id_users'), 'status_updates', 'users',
        ['author_id'], ['id'],
    )
    op.create_index(op.f('ix_status_updates_author_id'), 'status_updates', ['author_id'], unique=False)

    op.create_table('photos',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('update_id', sa.Integer(), nullable=False),
    sa.Column('storage_key', sa.Text(), nullable=False),
    sa.Column('content_type', sa.Text(), nullable=False),
    sa.Column('original_name', sa.Text(), server_default='', nullable=False),
    sa.Column('size_bytes', sa.Integer(), nullable=False),
    sa.Column('width', sa.Integer(), nullable=False),
    sa.Column('height', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("content_type IN ('image/jpeg', 'image/png', 'image/webp')", name=op.f('ck_photos_content_type')),
    sa.CheckConstraint('size_bytes BETWEEN 1 AND 10485760', name=op.f('ck_photos_size_bytes')),
    sa.ForeignKeyConstraint(['update_id'], ['status_updates.id'], name=op.f('fk_photos_update_id_status_updates'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_photos')),
    sa.UniqueConstraint('storage_key', name=op.f('uq_photos_storage_key'))
    )
    op.create_index(op.f('ix_photos_update_id'), 'photos', ['update_id'], unique=False)

    # "Projects near me" measures true distances (geography); this index lets its
    # ST_DWithin filter and nearest-first <-> ordering skip the rest of the city.
    op.execute("CREATE INDEX IF NOT EXISTS ix_projects_geog ON projects USING gist ((geom::geography))")

    op.execute(APPEND_ONLY_FUNCTIONS)
    op.execute(
        "CREATE TRIGGER status_updates_append_only BEFORE UPDATE OR DELETE ON status_updates "
        "FOR EACH ROW EXECUTE FUNCTION status_updates_append_only()"
    )
    op.execute(
        "CREATE TRIGGER photos_append_only BEFORE UPDATE OR DELETE ON photos "
        "FOR EACH ROW EXECUTE FUNCTION photos_append_only()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER photos_append_only ON photos")
    op.execute("DROP TRIGGER status_updates_append_only ON status_updates")
    op.execute("DROP FUNCTION photos_append_only()")
    op.execute("DROP FUNCTION status_updates_append_only()")
    op.execute("DROP INDEX IF EXISTS ix_projects_geog")
    op.drop_index(op.f('ix_photos_update_id'), table_name='photos')
    op.drop_table('photos')
    op.drop_index(op.f('ix_status_updates_author_id'), table_name='status_updates')
    op.drop_constraint(op.f('fk_status_updates_author_id_users'), 'status_updates', type_='foreignkey')
    op.drop_column('status_updates', 'author_id')

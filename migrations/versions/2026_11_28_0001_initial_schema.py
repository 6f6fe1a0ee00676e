"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-28 17:35:52.888095
"""

from alembic import op
import sqlalchemy as sa
import geoalchemy2
from geoalchemy2 import Geometry
from sqlalchemy.dialects import postgresql

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_geospatial_table('city_boundaries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.Text(), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('source', sa.Text(), nullable=False),
    sa.Column('geom', Geometry(geometry_type='MULTIPOLYGON', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_city_boundaries')),
    sa.UniqueConstraint('code', name=op.f('uq_city_boundaries_code'))
    )
    op.create_geospatial_index('idx_city_boundaries_geom', 'city_boundaries', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_geospatial_table('places',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('kind', sa.Text(), nullable=False),
    sa.Column('inside_city', sa.Boolean(), nullable=False),
    sa.Column('source', sa.Text(), nullable=False),
    sa.Column('geom', Geometry(geometry_type='POINT', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_places')),
    sa.UniqueConstraint('name', name=op.f('uq_places_name'))
    )
    op.create_geospatial_index('idx_places_geom', 'places', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_table('plan_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.Text(), nullable=False),
    sa.Column('level', sa.Text(), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('title', sa.Text(), nullable=True),
    sa.Column('department', sa.Text(), nullable=True),
    sa.Column('content', sa.Text(), nullable=True),
    sa.Column('effect', sa.Text(), nullable=True),
    sa.Column('activities', postgresql.ARRAY(sa.Text()), server_default='{}', nullable=False),
    sa.CheckConstraint("level IN ('policy', 'measure', 'initiative', 'shisaku')", name=op.f('ck_plan_items_level')),
    sa.ForeignKeyConstraint(['parent_id'], ['plan_items.id'], name=op.f('fk_plan_items_parent_id_plan_items')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plan_items')),
    sa.UniqueConstraint('code', name=op.f('uq_plan_items_code'))
    )
    op.create_geospatial_table('projects',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('kind', sa.Text(), nullable=False),
    sa.Column('status', sa.Text(), server_default='planned', nullable=False),
    sa.Column('progress', sa.SmallInteger(), server_default='0', nullable=False),
    sa.Column('planned_start', sa.Date(), nullable=True),
    sa.Column('planned_end', sa.Date(), nullable=True),
    sa.Column('actual_start', sa.Date(), nullable=True),
    sa.Column('actual_end', sa.Date(), nullable=True),
    sa.Column('department', sa.Text(), nullable=False),
    sa.Column('is_public', sa.Boolean(), server_default='true', nullable=False),
    sa.Column('description', sa.Text(), server_default='', nullable=False),
    sa.Column('address', sa.Text(), nullable=True),
    sa.Column('gsi_common_id', sa.Text(), nullable=True),
    sa.Column('is_sample', sa.Boolean(), server_default='false', nullable=False),
    sa.Column('geom', Geometry(srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.CheckConstraint("kind IN ('bridge', 'pavement', 'revetment', 'road', 'sabo', 'seismic', 'shelter')", name=op.f('ck_projects_kind')),
    sa.CheckConstraint("kind NOT IN ('pavement', 'revetment', 'road') OR ST_Dimension(geom) = 1", name=op.f('ck_projects_line_kinds')),
    sa.CheckConstraint("status IN ('completed', 'construction', 'design', 'planned', 'suspended')", name=op.f('ck_projects_status')),
    sa.CheckConstraint('ST_IsValid(geom)', name=op.f('ck_projects_geom_valid')),
    sa.CheckConstraint('progress BETWEEN 0 AND 100', name=op.f('ck_projects_progress')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_projects')),
    sa.UniqueConstraint('gsi_common_id', name=op.f('uq_projects_gsi_common_id'))
    )
    op.create_geospatial_index('idx_projects_geom', 'projects', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_table('indicators',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.Text(), nullable=False),
    sa.Column('measure_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('unit', sa.Text(), nullable=False),
    sa.Column('baseline', sa.Numeric(precision=12, scale=3), nullable=False),
    sa.Column('baseline_label', sa.Text(), nullable=False),
    sa.Column('baseline_year', sa.Integer(), nullable=False),
    sa.Column('target', sa.Numeric(precision=12, scale=3), nullable=False),
    sa.Column('target_label', sa.Text(), nullable=False),
    sa.Column('target_year', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['measure_id'], ['plan_items.id'], name=op.f('fk_indicators_measure_id_plan_items')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_indicators')),
    sa.UniqueConstraint('code', name=op.f('uq_indicators_code'))
    )
    op.create_table('project_plan_items',
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('plan_item_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['plan_item_id'], ['plan_items.id'], name=op.f('fk_project_plan_items_plan_item_id_plan_items')),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_project_plan_items_project_id_projects'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('project_id', 'plan_item_id', name=op.f('pk_project_plan_items'))
    )
    op.create_geospatial_table('status_updates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('previous_status', sa.Text(), nullable=True),
    sa.Column('status', sa.Text(), nullable=False),
    sa.Column('progress', sa.SmallInteger(), nullable=False),
    sa.Column('note', sa.Text(), server_default='', nullable=False),
    sa.Column('client_id', sa.Uuid(), nullable=True),
    sa.Column('position', Geometry(geometry_type='POINT', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry'), nullable=True),
    sa.CheckConstraint("status IN ('completed', 'construction', 'design', 'planned', 'suspended')", name=op.f('ck_status_updates_status')),
    sa.CheckConstraint('progress BETWEEN 0 AND 100', name=op.f('ck_status_updates_progress')),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_status_updates_project_id_projects'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_status_updates')),
    sa.UniqueConstraint('client_id', name=op.f('uq_status_updates_client_id'))
    )
    op.create_index(op.f('ix_status_updates_project_id'), 'status_updates', ['project_id'], unique=False)
    op.create_table('project_indicators',
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('indicator_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['indicator_id'], ['indicators.id'], name=op.f('fk_project_indicators_indicator_id_indicators')),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_project_indicators_project_id_projects'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('project_id', 'indicator_id', name=op.f('pk_project_indicators'))
    )


def downgrade() -> None:
    op.drop_table('project_indicators')
    op.drop_index(op.f('ix_status_updates_project_id'), table_name='status_updates')
    op.drop_geospatial_table('status_updates')
    op.drop_table('project_plan_items')
    op.drop_table('indicators')
    op.drop_geospatial_index('idx_projects_geom', table_name='projects', postgresql_using='gist', column_name='geom')
    op.drop_geospatial_table('projects')
    op.drop_table('plan_items')
    op.drop_geospatial_index('idx_places_geom', table_name='places', postgresql_using='gist', column_name='geom')
    op.drop_geospatial_table('places')
    op.drop_geospatial_index('idx_city_boundaries_geom', table_name='city_boundaries', postgresql_using='gist', column_name='geom')
    op.drop_geospatial_table('city_boundaries')
